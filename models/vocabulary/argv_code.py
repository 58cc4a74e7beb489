"""Which elements of an argv are code: the program's name and what a shell or interpreter runs.

Vigil fills untrusted values (alert labels) into one argv element at a time and never hands
them to a shell itself. That protection ends where the configured command is itself a shell:
``[sh, -c, "echo {labels.x}"]`` makes the value part of a script, and ``["{labels.tool}"]``
lets it pick the program. This module finds those positions so the config check can refuse
untrusted placeholders there.

It knows common shells, interpreters with an inline-code flag, launchers that run their
first operand as a program (``env``, ``sudo``, ``timeout``, …) and commands that hand their
arguments to a remote or login shell (``ssh``, ``su``, ``watch``). It scans the whole argv for
them, so wrappers like ``docker exec c sh -c …`` are covered too. A program it does not know
that evaluates its arguments as code is the operator's responsibility.
"""

import re

_SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "fish", "csh", "tcsh"}
_CODE_FLAGS = {  # interpreter -> options whose value is code (or a module to run)
    "python": {"-c", "-m"},
    "pypy": {"-c", "-m"},
    "perl": {"-e", "-E"},
    "ruby": {"-e"},
    "node": {"-e", "--eval", "-p", "--print"},
    "nodejs": {"-e", "--eval", "-p", "--print"},
    "php": {"-r"},
    "lua": {"-e"},
    "luajit": {"-e"},
    "tclsh": set(),
    "awk": {"-f"},
    "gawk": {"-f", "-e", "--source"},
    "mawk": {"-f"},
    "sed": {"-e", "--expression", "-f", "--file"},
    "pwsh": {"-c", "-command", "-encodedcommand"},
    "powershell": {"-c", "-command", "-encodedcommand"},
    "osascript": {"-e"},
}
_VALUE_OPTIONS = {  # options that take the next argument as their value
    "shell": {"-o", "+o", "-O", "+O", "--rcfile", "--init-file"},
    "python": {"-W", "-X"},
    "node": {"-r", "--require", "--import"},
    "nodejs": {"-r", "--require", "--import"},
    "env": {"-u", "--unset", "-C", "--chdir"},
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"},
    "doas": {"-u", "-C"},
    "nice": {"-n", "--adjustment"},
    "timeout": {"-s", "--signal", "-k", "--kill-after"},
    "ionice": {"-c", "-n", "-p", "-P", "-u"},
    "stdbuf": {"-i", "-o", "-e"},
    "runuser": {"-u", "-g", "-G"},
    "xargs": {"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s"},
    "flock": {"-w", "-E"},
    "systemd-run": {"-u", "--unit", "-p", "--property", "-E", "--setenv", "-M", "-H"},
}
_LAUNCHERS = {  # runs its first operand as a program; value: leading operands that are not it
    **dict.fromkeys(
        ["env", "sudo", "doas", "nice", "nohup", "setsid", "stdbuf", "ionice", "time"], 0
    ),
    **dict.fromkeys(["xargs", "exec", "command", "runuser", "systemd-run", "busybox"], 0),
    **dict.fromkeys(["timeout", "chroot", "flock", "taskset", "chrt"], 1),
}
_WHOLE_TAIL = {"ssh", "su", "watch", "script", "rsh"}  # arguments become shell text
_VERSION_RE = re.compile(r"[\d.]+$")


def code_positions(argv: list[str]) -> set[int]:
    """Return the indexes of ``argv`` that name a program or hold code that will be run.

    >>> sorted(code_positions(["sh", "-c", "echo $1", "sh", "{labels.x}"]))
    [0, 1, 2]
    >>> sorted(code_positions(["env", "FOO=1", "python3", "-c", "print(1)", "arg"]))
    [0, 1, 2, 3, 4]
    >>> sorted(code_positions(["systemctl", "restart", "{labels.unit}"]))
    [0]
    >>> sorted(code_positions(["docker", "exec", "web", "bash", "-c", "{labels.x}"]))
    [0, 3, 4, 5]
    """
    positions, kind = _from(argv, 0)
    index = max(positions) + 1
    # The arguments after a script are its data; those of another program (docker exec web
    # bash -c …, kubectl exec pod -- sh -c …) may start a shell of their own.
    while kind == "program" and index < len(argv):
        if _kind(argv[index]) in ("shell", "interpreter", "whole"):
            found, kind = _from(argv, index)
            positions |= found
            index = max(found)
        index += 1
    return positions


def _from(argv: list[str], start: int) -> tuple[set[int], str]:
    """Code positions of the command at ``start`` (through its launchers), and its kind."""
    positions: set[int] = set()
    while True:
        name, kind = _program(argv[start]), _kind(argv[start])
        if kind != "launcher":
            break
        values = _VALUE_OPTIONS.get(name, set())
        program = _operand(argv, start, values, skip=_LAUNCHERS[name])
        if program is None:
            return positions | set(range(start, len(argv))), kind
        positions |= set(range(start, program))
        start = program
    if kind == "whole":
        end = len(argv) - 1
    elif kind == "shell":
        end = _shell_script(argv, start)
    elif kind == "interpreter":
        end = _interpreter_code(argv, start, name)
    else:
        end = start
    return positions | set(range(start, end + 1)), kind


def _shell_script(argv: list[str], start: int) -> int:
    """Index of the shell's script (its ``-c`` text or script file); past the end if none."""
    script = _operand(argv, start, _VALUE_OPTIONS["shell"])
    return len(argv) - 1 if script is None else script


def _interpreter_code(argv: list[str], start: int, name: str) -> int:
    """Index of the interpreter's inline code, module or script file."""
    flags = _CODE_FLAGS[name]
    values = _VALUE_OPTIONS.get(name, set())
    index = start + 1
    while index < len(argv):
        arg = argv[index]
        if arg in flags:
            return min(index + 1, len(argv) - 1)
        if any(arg.startswith(flag) and flag.startswith("-") for flag in flags if len(flag) == 2):
            return index  # attached code: -c'print(1)'
        if not arg.startswith("-") or arg in ("-", "--"):
            return index if arg != "--" else min(index + 1, len(argv) - 1)
        index += 2 if arg in values else 1
    return len(argv) - 1


def _operand(argv: list[str], start: int, values: set[str], skip: int = 0) -> int | None:
    """Index of the first operand after ``start`` (options, their values and NAME=x skipped)."""
    index = start + 1
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            index += 1
            continue
        if arg in values:
            index += 2
        elif arg.startswith(("-", "+")) or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", arg):
            index += 1
        elif skip:
            skip, index = skip - 1, index + 1
        else:
            return index
    return None


def _program(arg: str) -> str:
    """The program's base name without a version suffix: /usr/bin/python3.12 -> python."""
    base = arg.rsplit("/", 1)[-1]
    return _VERSION_RE.sub("", base) or base


def _kind(arg: str) -> str:
    name = _program(arg)
    if name in _SHELLS:
        return "shell"
    if name in _CODE_FLAGS:
        return "interpreter"
    if name in _LAUNCHERS:
        return "launcher"
    if name in _WHOLE_TAIL:
        return "whole"
    return "program"
