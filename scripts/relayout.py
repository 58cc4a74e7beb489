"""Issue 19, the moves: one package per capability in tasks/, tasks/core/ and tests/.

Usage: python scripts/relayout.py REPO_ROOT [--dry-run] [--allow-uncovered]

On a clean checkout this ``git mv``s every file in MOVES, creates the packages in PACKAGES,
rewrites every reference to a moved module in every text file of the repository (imports,
``from pkg import module``, dotted strings such as ``"tasks.x:fn"`` and ``tasks.x.attr``,
paths such as ``tasks/x.py`` and test paths relative to ``tests/``), renames SYMBOLS,
applies the few EDITS a rewrite cannot make, sorts and formats the changed Python files
with the repository's ruff, then checks that every internal import resolves.

It refuses to touch anything when the tree is dirty, when a file in MOVES is missing or a
destination exists, or (unless --allow-uncovered) when a flat module in tasks/ or
tasks/core/, or a test in a folder the relayout folds away, is not in MOVES: add it and rerun.
"""

import argparse
import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Old path -> new path, along the data path. Renames only where the old name misleads:
# "maintenance" meant store upkeep (tasks/maintenance.py) and alert maintenance windows
# (tasks/core/maintenance.py); data access went by repository/recorder/status/dismissals,
# now "store"; tasks/alerting/notify.py plans messages (the Notifier), tasks/notify/ delivers.
MOVES: dict[str, str] = {
    # The bottom layer: the vocabulary models/ and tasks/ share, and the error tree.
    "vigil/errors.py": "models/errors.py",
    "tasks/core/labels.py": "models/vocabulary/labels.py",
    "tasks/core/selectors.py": "models/vocabulary/selectors.py",
    "tasks/core/durations.py": "models/vocabulary/durations.py",
    "tasks/core/resolution.py": "models/vocabulary/resolution.py",
    "tasks/core/passwords.py": "models/vocabulary/passwords.py",
    "tasks/core/alerting/templates.py": "models/vocabulary/templates.py",
    "tasks/core/alerting/series_notation.py": "models/vocabulary/series_notation.py",
    "tasks/core/argv_code.py": "models/vocabulary/argv_code.py",
    "tasks/core/redact.py": "models/vocabulary/redact.py",
    # collect
    "tasks/collect.py": "tasks/collect/tick.py",
    "tasks/collect_host.py": "tasks/collect/host.py",
    "tasks/collect_processes.py": "tasks/collect/processes.py",
    "tasks/scrape.py": "tasks/collect/scrape.py",
    "tasks/push_api.py": "tasks/collect/push_api.py",
    "tasks/core/exposition.py": "tasks/core/collect/exposition.py",
    "tasks/core/push_payload.py": "tasks/core/collect/push_payload.py",
    "tasks/core/rates.py": "tasks/core/collect/rates.py",
    "tasks/core/process_tracking.py": "tasks/core/collect/process_tracking.py",
    "tasks/core/backlog.py": "tasks/core/collect/backlog.py",
    # store
    "tasks/store_batch.py": "tasks/store/batch.py",
    "tasks/batch_hooks.py": "tasks/store/batch_hooks.py",
    "tasks/maintenance.py": "tasks/store/upkeep.py",
    "tasks/own_metrics.py": "tasks/store/own_metrics.py",
    # checks
    "tasks/checks/recorder.py": "tasks/checks/store.py",
    "tasks/checks/status.py": "tasks/checks/status_store.py",
    "tasks/core/check_assertions.py": "tasks/core/checks/assertions.py",
    "tasks/core/check_machine.py": "tasks/core/checks/machine.py",
    "tasks/core/check_round.py": "tasks/core/checks/round.py",
    "tasks/core/check_state.py": "tasks/core/checks/state.py",
    "tasks/core/health_score.py": "tasks/core/checks/health_score.py",
    # alerting
    "tasks/alerting/repository.py": "tasks/alerting/store.py",
    "tasks/alerting/dismissals.py": "tasks/alerting/dismissal_store.py",
    "tasks/alerting/notify.py": "tasks/alerting/notifier.py",
    "tasks/core/maintenance.py": "tasks/core/alerting/maintenance_windows.py",
    # notify: delivery
    "tasks/alerting/outbox.py": "tasks/notify/outbox.py",
    "tasks/alerting/channels.py": "tasks/notify/channels.py",
    # recovery, with remediation
    "tasks/recovery_trigger.py": "tasks/recovery/trigger.py",
    "tasks/recovery_store.py": "tasks/recovery/store.py",
    "tasks/recovery_lock.py": "tasks/recovery/lock.py",
    "tasks/recovery_queue.py": "tasks/recovery/target_queue.py",
    "tasks/recovery_approval.py": "tasks/recovery/approval.py",
    "tasks/recovery_steps.py": "tasks/recovery/steps.py",
    "tasks/recovery_actions.py": "tasks/recovery/actions.py",
    "tasks/recovery_checks.py": "tasks/recovery/checks.py",
    "tasks/recovery_probe.py": "tasks/recovery/probe.py",
    "tasks/remediation.py": "tasks/recovery/remediation.py",
    "tasks/remediation_store.py": "tasks/recovery/remediation_store.py",
    "tasks/core/recovery_plan.py": "tasks/core/recovery/plan.py",
    "tasks/core/recovery_template.py": "tasks/core/recovery/template.py",
    "tasks/core/recovery_safety.py": "tasks/core/recovery/safety.py",
    "tasks/core/recovery_report.py": "tasks/core/recovery/report.py",
    "tasks/core/remediation.py": "tasks/core/recovery/remediation.py",
    "tasks/core/suppression.py": "tasks/core/recovery/suppression.py",
    # analytics (pure parts stay in tasks/core/forecast and tasks/core/anomaly)
    "tasks/analytics.py": "tasks/analytics/jobs.py",
    "tasks/analytics_series.py": "tasks/analytics/watched_series.py",
    "tasks/analytics_store.py": "tasks/analytics/store.py",
    "tasks/analytics_feedback.py": "tasks/analytics/feedback.py",
    "tasks/runners.py": "tasks/analytics/runners.py",
    # tests mirror the source tree: tests/tasks/ and tests/rules/ fold into their capability
    "tests/tasks/core/test_durations.py": "tests/models/vocabulary/test_durations.py",
    "tests/tasks/core/test_labels.py": "tests/models/vocabulary/test_labels.py",
    "tests/tasks/core/test_selectors.py": "tests/models/vocabulary/test_selectors.py",
    "tests/tasks/core/test_redact.py": "tests/models/vocabulary/test_redact.py",
    "tests/tasks/core/test_exposition.py": "tests/collect/test_exposition.py",
    "tests/tasks/core/test_push_payload.py": "tests/collect/test_push_payload.py",
    "tests/tasks/core/test_rates_and_tracking.py": "tests/collect/test_rates_and_tracking.py",
    "tests/tasks/test_batch_hooks.py": "tests/store/test_batch_hooks.py",
    "tests/collect/test_rollups.py": "tests/store/test_rollups.py",
    "tests/tasks/core/test_maintenance.py": "tests/alerting/test_maintenance_windows.py",
    "tests/rules/test_backtest.py": "tests/alerting/test_backtest.py",
    "tests/rules/test_rule_tests.py": "tests/alerting/test_rule_tests.py",
    "tests/rules/test_tiers.py": "tests/alerting/test_tiers.py",
    "tests/rules/test_trust.py": "tests/alerting/test_trust.py",
    "tests/alerting/test_delivery.py": "tests/notify/test_delivery.py",
    "tests/rules/__init__.py": "tests/notify/__init__.py",
    "tests/rules/conftest.py": "tests/notify/conftest.py",  # re-exports the alerting fixtures
    "tests/tasks/core/test_remediation_machine.py": "tests/recovery/test_remediation_machine.py",
}

# New packages and the docstring of their __init__.py (left alone when one exists).
PACKAGES: dict[str, str] = {
    "models/vocabulary": (
        "The words every layer shares: labels, selectors, durations, resolutions, templates.\n\n"
        "Standard library and jinja2 only: models/ and tasks/core/ import it, it imports neither.\n"
    ),
    "tasks/collect": "Collection adapters: psutil host and processes, scrapes, the push endpoint.",
    "tasks/store": "Store adapters: write and publish a batch, store upkeep, Vigil's own metrics.",
    "tasks/notify": "Notification delivery: the outbox and apprise channels.",
    "tasks/recovery": (
        "Recovery adapters: trigger, safety gate and audit, steps and approvals, remediation."
    ),
    "tasks/analytics": "Analytics adapters: which series, retrain/forecast/score, model versions.",
    "tasks/core/collect": "Pure collection logic: exposition and push parsing, rates, restarts.",
    "tasks/core/checks": "Pure check logic: assertions, soft/hard states, rounds, health scores.",
    "tasks/core/recovery": (
        "Pure recovery logic: plans and templates, safety gate, remediation, suppression, reports."
    ),
}

# (file after the move, old name, new name): a class renamed where it is defined. The script
# refuses if another file imports the old name from that module.
SYMBOLS: list[tuple[str, str, str]] = [
    # models/config/remediation.py keeps MaintenanceWindow (alerts); this one pauses checks.
    ("models/config/checks.py", "MaintenanceWindow", "CheckPause"),
]

# (file after the move, exact old text, new text), applied after the rewrite. A missing old
# text in a .py file stops the script before anything is touched; elsewhere it is a warning.
EDITS: list[tuple[str, str, str]] = [
    (
        "tests/notify/conftest.py",
        '"""Rule-feature fixtures: the alerting fixtures (engines from YAML, webhook receiver)."""',
        '"""Notification fixtures: the alerting ones (engines from YAML, webhook, SMTP server)."""',
    ),
    (
        "tests/notify/conftest.py",
        "import make_alert_engine, sqlite_url, webhook  # noqa: F401",
        "import make_alert_engine, smtp, sqlite_url, webhook  # noqa: F401",
    ),
    (
        "tasks/alerting/__init__.py",
        "the engine on the batch seam, the store of alerts, the outbox, apprise.",
        "the engine on the batch seam, alert rows, muting, grouping, escalation.",
    ),
    (
        "tests/alerting/helpers.py",
        "reaction (``tasks.recovery.remediation``) with a test launcher.",
        "reaction (tasks.recovery.remediation) with a test launcher.",
    ),
    (
        "README.md",
        "(`tasks/core/checks/machine.py`: soft/hard states; `check_round.py`:",
        "(`tasks/core/checks/machine.py`: soft/hard states; `round.py`:",
    ),
]

FLAT_DIRS = ("tasks", "tasks/core")  # nothing but __init__.py may stay flat here
FOLDED_DIRS = ("tests/tasks", "tests/rules")  # every file here must move
INTERNAL = ("models", "tasks", "flows", "app", "deployments", "vigil", "tests", "bench")
SELF = "scripts/relayout.py"


def module_of(path: str) -> str:
    """``tasks/core/labels.py`` -> ``tasks.core.labels``."""
    return path.removesuffix(".py").replace("/", ".")


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


def alternation(names: list[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


class Rewriter:
    """Rewrite references to moved modules in one pass, so a new name is never rewritten."""

    def __init__(self, moves: dict[str, str]) -> None:
        modules = {p: n for p, n in moves.items() if not p.endswith("__init__.py")}
        self.dotted = {module_of(p): module_of(n) for p, n in modules.items()}
        self.paths = dict(moves)
        for old, new in moves.items():  # test paths are often written relative to tests/
            if old.startswith("tests/") and new.startswith("tests/"):
                self.paths[old.removeprefix("tests/")] = new.removeprefix("tests/")
        self.dotted_re = re.compile(rf"(?<![\w.])({alternation(list(self.dotted))})(?!\w)")
        self.path_re = re.compile(rf"(?<![\w/.-])({alternation(list(self.paths))})(?!\w)")
        self.from_re = re.compile(
            r"^(?P<indent>\s*)from\s+(?P<pkg>[\w.]+)\s+import\s+"
            r"(?P<names>[\w\s,]+?)(?P<comment>\s*#.*)?$"
        )

    def text(self, content: str) -> str:
        return "\n".join(self._line(line) for line in content.split("\n"))

    def _line(self, line: str) -> str:
        found = self.from_re.match(line)
        if found and any(
            f"{found['pkg']}.{n.split()[0]}" in self.dotted for n in self._names(found)
        ):
            return self._from_import(found)
        line = self.dotted_re.sub(lambda m: self.dotted[m[1]], line)
        return self.path_re.sub(lambda m: self.paths[m[1]], line)

    @staticmethod
    def _names(found: re.Match[str]) -> list[str]:
        return [n.strip() for n in found["names"].split(",") if n.strip()]

    def _from_import(self, found: re.Match[str]) -> str:
        """``from tasks import batch_hooks, x`` -> one line per moved module, the rest kept."""
        indent, pkg, comment = found["indent"], found["pkg"], found["comment"] or ""
        lines, kept = [], []
        for item in self._names(found):
            name, _, alias = (part.strip() for part in item.partition(" as "))
            new = self.dotted.get(f"{pkg}.{name}")
            if new is None:
                kept.append(item)
                continue
            new_pkg, new_name = new.rsplit(".", 1)
            local = alias or name
            suffix = f" as {local}" if local != new_name else ""
            lines.append(f"{indent}from {new_pkg} import {new_name}{suffix}")
        if kept:
            new_pkg = self.dotted_re.sub(lambda m: self.dotted[m[1]], pkg)
            lines.append(f"{indent}from {new_pkg} import {', '.join(kept)}")
        lines[0] += comment
        return "\n".join(lines)


def refusals(root: Path, files: list[str], allow_uncovered: bool, dry_run: bool) -> list[str]:
    problems = []
    if not dry_run and git(root, "status", "--porcelain"):
        problems.append("the work tree has changes: commit or stash them first")
    for old, new in MOVES.items():
        if not (root / old).is_file():
            problems.append(f"missing source (moved or renamed since the map was written?): {old}")
        if (root / new).exists():
            problems.append(f"destination exists: {new}")
    uncovered = [f for f in flat_leftovers(root) + folded_leftovers(files) if f not in MOVES]
    for path in uncovered:
        message = f"not in MOVES (add it, or pass --allow-uncovered): {path}"
        problems.append(message) if not allow_uncovered else print(f"WARNING {message}")
    return problems


def flat_leftovers(root: Path) -> list[str]:
    return [
        f"{folder}/{p.name}"
        for folder in FLAT_DIRS
        for p in sorted((root / folder).glob("*.py"))
        if p.name != "__init__.py"
    ]


def folded_leftovers(files: list[str]) -> list[str]:
    return [f for f in files if f.startswith(tuple(d + "/" for d in FOLDED_DIRS))]


def text_files(root: Path) -> list[str]:
    listed = git(root, "ls-files", "--cached", "--others", "--exclude-standard").splitlines()
    return [f for f in listed if f != SELF and (root / f).is_file()]


def read_text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def new_contents(root: Path, files: list[str]) -> tuple[dict[str, str], list[str]]:
    """Return {new path: content} for every changed or moved text file, and problems."""
    rewriter, changed, problems = Rewriter(MOVES), {}, []
    for path in files:
        old = read_text(root / path)
        if old is None:
            continue
        new = rewriter.text(old)
        if new != old or path in MOVES:
            changed[MOVES.get(path, path)] = new
    for target, old_name, new_name in SYMBOLS:
        module = module_of(target)
        for path in files:
            new_path = MOVES.get(path, path)
            content = changed.get(new_path) or read_text(root / path) or ""
            if new_path != target and uses(content, module, old_name):
                problems.append(f"{path} uses {module}.{old_name}: rename it by hand")
        source = changed.get(target) or read_text(root / target) or ""
        changed[target] = re.sub(rf"\b{old_name}\b", new_name, source)
    for target, old_text, new_text in EDITS:
        source = changed.get(target) or read_text(root / target) or ""
        if old_text not in source:
            message = f"edit not applied, text not found in {target}: {old_text!r}"
            problems.append(message) if target.endswith(".py") else print(f"WARNING {message}")
            continue
        changed[target] = source.replace(old_text, new_text, 1)
    return changed, problems


def uses(content: str, module: str, name: str) -> bool:
    """True when Python ``content`` imports ``name`` from ``module`` or writes ``module.name``."""
    if f"{module}.{name}" in content:
        return True
    try:
        tree = ast.parse(content)
    except SyntaxError:
        return False
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == module
        and any(alias.name == name for alias in node.names)
        for node in ast.walk(tree)
    )


def apply(root: Path, changed: dict[str, str]) -> None:
    for old, new in MOVES.items():
        (root / new).parent.mkdir(parents=True, exist_ok=True)
        git(root, "mv", old, new)
    for path, content in changed.items():
        (root / path).write_text(content, encoding="utf-8")
    for folder, doc in PACKAGES.items():
        init = root / folder / "__init__.py"
        if not init.exists():
            text = f'"""{doc.rstrip()}\n"""\n' if "\n" in doc else f'"""{doc}"""\n'
            init.write_text(text, encoding="utf-8")
            git(root, "add", str(init.relative_to(root)))
    for old in MOVES:  # drop folders the moves emptied (stale __pycache__ included)
        emptied = (root / old).parent
        while (
            emptied != root
            and emptied.exists()
            and not any(p.name != "__pycache__" for p in emptied.iterdir())
        ):
            shutil.rmtree(emptied)
            emptied = emptied.parent
    git(root, "add", "-A", *sorted(changed))


def tidy(root: Path, py_files: list[str]) -> None:
    """Sort imports and format the rewritten files with the repository's own ruff."""
    local = root / ".venv" / "bin" / "ruff"
    ruff = str(local) if local.exists() else shutil.which("ruff")
    if ruff is None or not py_files:
        print("WARNING no ruff found: run `ruff check --select I --fix . && ruff format .`")
        return
    subprocess.run([ruff, "check", "--select", "I", "--fix", "--quiet", *py_files], cwd=root)
    subprocess.run([ruff, "format", "--quiet", *py_files], cwd=root, check=True)
    git(root, "add", *py_files)
    long_lines = subprocess.run(
        [ruff, "check", "--select", "E501", "--output-format", "concise", "--quiet", *py_files],
        cwd=root,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    for line in long_lines:  # a longer name in a docstring or comment: shorten it (an EDIT)
        print(f"WARNING {line}")


def unresolved_imports(root: Path, files: list[str]) -> list[str]:
    old_modules = {module_of(p) for p in MOVES}
    problems = []
    for path in files:
        if not path.endswith(".py"):
            continue
        try:
            tree = ast.parse((root / path).read_text(encoding="utf-8"))
        except SyntaxError as exc:
            problems.append(f"{path}: does not parse after the rewrite: {exc}")
            continue
        for line, module, name in imports(tree):
            if module.split(".")[0] not in INTERNAL:
                continue
            if not exists(root, module):
                problems.append(f"{path}:{line}: no module {module}")
            elif name and f"{module}.{name}" in old_modules:
                problems.append(f"{path}:{line}: {module}.{name} was moved")
    return problems


def imports(tree: ast.AST) -> list[tuple[int, str, str | None]]:
    """(line, module, imported name or None) for every absolute import in ``tree``."""
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
    return found


def exists(root: Path, module: str) -> bool:
    base = root / module.replace(".", "/")
    return base.with_suffix(".py").is_file() or base.is_dir()


def leftovers(root: Path, files: list[str]) -> list[str]:
    """Old names still written somewhere (prose the patterns cannot tell apart)."""
    rewriter, found = Rewriter(MOVES), []
    renamed = {Path(o).name: Path(n).name for o, n in MOVES.items() if Path(o).name != Path(n).name}
    bare = re.compile(rf"`({alternation(list(renamed))})`")
    packages = {module_of(str(Path(new).parent)) for new in MOVES.values()}  # tasks.collect
    for path in files:
        content = read_text(root / path) if (root / path).is_file() else None
        if content is None:
            continue
        for number, line in enumerate(content.split("\n"), 1):
            for match in rewriter.dotted_re.finditer(line):
                if not (match[1] in packages and line[match.end() : match.end() + 1] == "."):
                    found.append(f"{path}:{number}: old module name {match[1]}")
            for match in rewriter.path_re.finditer(line):
                found.append(f"{path}:{number}: old path {match[1]}")
            if path.endswith(".md"):
                for match in bare.finditer(line):
                    found.append(f"{path}:{number}: bare old file name {match[1]}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="print the plan, touch nothing")
    parser.add_argument("--allow-uncovered", action="store_true")
    args = parser.parse_args()
    root = args.root.resolve()
    files = text_files(root)
    problems = refusals(root, files, args.allow_uncovered, args.dry_run)
    changed, edit_problems = ({}, []) if problems else new_contents(root, files)
    problems += edit_problems
    if problems:
        print("relayout: refusing to run:", *problems, sep="\n  ")
        return 2
    width = max(len(old) for old in MOVES)
    print("moves:", *(f"  {old:<{width}} -> {new}" for old, new in MOVES.items()), sep="\n")
    print("packages:", *(f"  {folder}/__init__.py" for folder in PACKAGES), sep="\n")
    rewritten = sorted(p for p in changed if p not in MOVES.values())
    print(f"rewritten in place: {len(rewritten)} files", *rewritten, sep="\n  ")
    if args.dry_run:
        return 0
    apply(root, changed)
    files = text_files(root)
    tidy(root, sorted(p for p in changed if p.endswith(".py")))
    broken = unresolved_imports(root, files)
    for line in leftovers(root, files):
        print(f"WARNING {line}")
    for path in flat_leftovers(root):
        print(f"WARNING still flat: {path}")
    if broken:
        print("relayout: imports that do not resolve:", *broken, sep="\n  ")
        return 1
    print("relayout: done; every internal import resolves. Review with `git status`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
