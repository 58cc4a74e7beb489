"""One SMS: a single line of at most 160 GSM-7 characters, so it is never split in parts.

A character outside the GSM 03.38 basic set would switch the whole message to UCS-2 (70
characters a part), so such characters become ``?``; the extension characters (``{}[]~`` …)
take two places and count so.
"""

import re

SMS_LIMIT = 160
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


def sms_units(text: str) -> int:
    """How many GSM-7 places ``text`` takes (extension characters take two).

    >>> sms_units("a{b}")
    6
    """
    return sum(2 if c in GSM_EXTENDED else 1 for c in text)


def sms_line(text: str, limit: int = SMS_LIMIT) -> str:
    """``text`` as one GSM-7 line within ``limit`` places; a trailing link is kept whole.

    >>> sms_line("CRIT  Disk\\nfull ✓ on db-primary-eu-west-1.example.com http://d/a", limit=50)
    'CRIT Disk full ? on db-primary-eu-we... http://d/a'
    """
    line = "".join(c if c in GSM_BASIC or c in GSM_EXTENDED else "?" for c in text)
    line = re.sub(r"\s+", " ", line).strip()
    if sms_units(line) <= limit:
        return line
    head, _, link = line.rpartition(" ")
    if "://" not in link or sms_units(link) > limit - 40:  # too long a link: clip it all
        head, link = line, ""
    budget = limit - sms_units(link) - (1 if link else 0) - 3
    while sms_units(head) > budget:
        head = head[: max(0, len(head) - (sms_units(head) - budget))]
    return f"{head.rstrip()}...{' ' + link if link else ''}"
