"""How the incident correlation threshold (r of minute-to-minute changes >= 0.7) was chosen.

Simulated hours of minute means (60 changes each), seeded: independent random walks (what
unrelated series look like: r of their levels vs r of their changes), pairs that follow one
shared load under noise of their own, and unrelated walks that both jump in the same minute.
Prints the share of each judged as moving together at the threshold. Last line JSON.
"""

import json
import random

from tasks.core.alerting.correlation import MINUTE_MS, THRESHOLD, co_movement, pearson

TRIALS = 5000
CANDIDATES = (0.5, 0.6, 0.7, 0.8, 0.9)


def walk(rng: random.Random, n: int = 61, sd: float = 3.0) -> list[float]:
    """A random walk of ``n`` minute means."""
    out = [0.0]
    for _ in range(n - 1):
        out.append(out[-1] + rng.gauss(0, sd))
    return out


def minutes(values: list[float]) -> dict[int, float]:
    return {i * MINUTE_MS: v for i, v in enumerate(values)}


def r_of(a: list[float], b: list[float]) -> float:
    return co_movement(minutes(a), minutes(b)) or 0.0


def shares(found: list[float]) -> dict[float, float]:
    """The share of ``found`` at or above each candidate threshold."""
    return {t: sum(r >= t for r in found) / len(found) for t in CANDIDATES}


def scenarios(rng: random.Random) -> dict[str, list[float]]:
    """r of changes (levels for one) per scenario, TRIALS each."""
    out: dict[str, list[float]] = {}
    pairs = [(walk(rng), walk(rng)) for _ in range(TRIALS)]
    out["independent, levels (|r|)"] = [abs(pearson(a, b) or 0.0) for a, b in pairs]
    out["independent, 60 changes (|r|)"] = [abs(r_of(a, b)) for a, b in pairs]
    short = [(walk(rng, 21), walk(rng, 21)) for _ in range(TRIALS)]
    out["independent, 20 changes (|r|)"] = [abs(r_of(a, b)) for a, b in short]
    for ratio in (0.25, 0.5, 1.0):
        found = []
        for _ in range(TRIALS):
            load = walk(rng)
            a = [x + rng.gauss(0, 3 * ratio) for x in load]
            b = [x + rng.gauss(0, 3 * ratio) for x in load]
            found.append(r_of(a, b))
        out[f"shared load, own noise {ratio}x"] = found
    jumps = []
    for _ in range(TRIALS):
        a, b = walk(rng), walk(rng)
        a[-1] += 40
        b[-1] += 40
        jumps.append(r_of(a, b))
    out["unrelated, both jump 40 at once"] = jumps
    return out


def main() -> None:
    found = scenarios(random.Random(1))
    print(f"share judged 'moved together' of {TRIALS} simulated hours, per threshold:")
    print(f"{'scenario':34}" + "".join(f"{t:>8}" for t in CANDIDATES))
    figures = {}
    for name, rs in found.items():
        row = shares(rs)
        figures[name] = row[THRESHOLD]
        print(f"{name:34}" + "".join(f"{row[t]:>8.1%}" for t in CANDIDATES))
    print(json.dumps({"threshold": THRESHOLD, "share_at_threshold": figures}))


if __name__ == "__main__":
    main()
