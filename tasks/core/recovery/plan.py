"""Turn a configured procedure into concrete actions: every placeholder filled, nothing run.

The plan is what dry-run shows, what the approval form describes and what the steps execute,
so an operator approves exactly the commands and requests that will run.
"""

from dataclasses import dataclass, field
from typing import Any

from models.config.recovery import (
    ApprovalMode,
    ParallelGroup,
    Probe,
    Procedure,
    ScaleStep,
    _StepBase,
)
from models.errors import RecoveryError
from tasks.core.recovery.template import (
    TemplateContext,
    check_allowed_labels,
    render_arg,
    render_argv,
    render_path,
    render_text,
    render_url,
)


@dataclass(frozen=True)
class Action:
    """One step with every value rendered; ``params`` depend on ``kind``."""

    name: str
    kind: str
    params: dict[str, Any]
    timeout_s: float = 30.0
    retries: int = 0
    retry_delay_s: float = 1.0
    retry_backoff: float = 2.0
    needs_approval: bool = False
    rollback: "Action | None" = None


@dataclass(frozen=True)
class Group:
    """Actions that run at the same time."""

    name: str
    actions: list[Action] = field(default_factory=list)


def make_context(
    procedure: str, target: str, labels: dict[str, str], *, address: str | None
) -> TemplateContext:
    """Build placeholder values: config-derived ones trusted, alert-derived ones not.

    >>> make_context("p", "web-1", {"job": "x"}, address=None).untrusted
    {'target': 'web-1', 'labels.job': 'x'}
    """
    trusted = {"procedure": procedure}
    if address is not None:
        trusted["address"] = address
    untrusted = {"target": target, **{f"labels.{k}": v for k, v in labels.items()}}
    return TemplateContext(trusted=trusted, untrusted=untrusted)


@dataclass(frozen=True)
class Plan:
    """A procedure rendered for one target: checks before, steps, and the verification."""

    procedure: Procedure
    target: str
    items: list[Action | Group]
    preconditions: list[dict[str, Any]]  # rendered probes, each with "expect"
    verification: dict[str, Any] | None  # rendered probe with "within_s" and "interval_s"


def plan(procedure: Procedure, target: str, ctx: TemplateContext) -> Plan:
    """Render every step and check of ``procedure``; raises RecoveryError before anything runs."""
    if procedure.targets and target not in procedure.targets:
        raise RecoveryError(
            f"{procedure.name} may not act on {target}; allowed: {procedure.targets}"
        )
    check_allowed_labels(ctx, procedure.allowed_labels)
    preconditions = [{**render_probe(p, ctx), "expect": p.expect} for p in procedure.preconditions]
    verification = None
    if procedure.verify is not None:
        verification = {
            **render_probe(procedure.verify, ctx),
            "within_s": procedure.verify.within.total_seconds(),
            "interval_s": procedure.verify.interval.total_seconds(),
        }
    return Plan(procedure, target, _items(procedure, ctx), preconditions, verification)


def _items(procedure: Procedure, ctx: TemplateContext) -> list[Action | Group]:
    items: list[Action | Group] = []
    for index, step in enumerate(procedure.steps, start=1):
        if isinstance(step, ParallelGroup):
            actions = [
                render_step(s, ctx, f"{index}.{j}-{s.type}")
                for j, s in enumerate(step.steps, start=1)
            ]
            items.append(Group(step.name or f"{index}-parallel", actions))
        else:
            items.append(render_step(step, ctx, f"{index}-{step.type}"))
    return items


def render_step(step: _StepBase, ctx: TemplateContext, default_name: str) -> Action:
    """Render one configured step (and its rollback) into an Action."""
    kind = step.type  # type: ignore[attr-defined]
    if isinstance(step, ScaleStep):
        ctx = TemplateContext({**ctx.trusted, "replicas": str(step.replicas)}, ctx.untrusted)
    rollback = step.rollback
    return Action(
        name=step.name or default_name,
        kind=kind,
        params=_RENDERERS[kind](step, ctx),
        timeout_s=step.timeout.total_seconds(),
        retries=step.retries,
        retry_delay_s=step.retry_delay.total_seconds(),
        retry_backoff=step.retry_backoff,
        needs_approval=step.approval == ApprovalMode.REQUIRED,
        rollback=render_step(rollback, ctx, f"undo-{default_name}") if rollback else None,
    )


def render_probe(probe: Probe, ctx: TemplateContext) -> dict[str, Any]:
    """Render a probe into plain parameters."""
    return {
        "http": render_url(probe.http, ctx) if probe.http else None,
        "tcp": render_text(probe.tcp, ctx) if probe.tcp else None,
        "command": render_argv(probe.command, ctx) if probe.command else None,
        "expect_status": list(probe.expect_status),
        "timeout_s": probe.timeout.total_seconds(),
    }


def render_value(value: Any, ctx: TemplateContext) -> Any:
    """Render strings anywhere inside JSON-like data; keys and other types stay as they are."""
    if isinstance(value, str):
        return render_text(value, ctx)
    if isinstance(value, list):
        return [render_value(v, ctx) for v in value]
    if isinstance(value, dict):
        return {k: render_value(v, ctx) for k, v in value.items()}
    return value


def _env(env: dict[str, str], ctx: TemplateContext) -> dict[str, str]:
    return {k: render_text(v, ctx) for k, v in env.items()}


def _path(value: str | None, ctx: TemplateContext) -> str | None:
    return render_path(value, ctx) if value is not None else None


def _command(s: Any, ctx: TemplateContext) -> dict[str, Any]:
    return {"argv": render_argv(s.argv, ctx), "env": _env(s.env, ctx), "cwd": _path(s.cwd, ctx)}


def _process(s: Any, ctx: TemplateContext) -> dict[str, Any]:
    return {
        "action": s.action,
        "pidfile": render_path(s.pidfile, ctx),
        "start": render_argv(s.start, ctx) if s.start else None,
        "env": _env(s.env, ctx),
        "cwd": _path(s.cwd, ctx),
        "grace_s": s.grace.total_seconds(),
        "up": render_probe(s.up, ctx) if s.up else None,
        "up_within_s": s.up_within.total_seconds(),
    }


def _http(s: Any, ctx: TemplateContext) -> dict[str, Any]:
    return {
        "method": s.method,
        "url": render_url(s.url, ctx),
        "headers": _env(s.headers, ctx),
        "json": render_value(s.json_body, ctx),
        "expect_status": list(s.expect_status),
        "breaker": _breaker(s.breaker),
    }


def _breaker(b: Any) -> dict[str, Any]:
    return {"failures": b.failures, "cooldown_s": b.cooldown.total_seconds()}


def _scale(s: Any, ctx: TemplateContext) -> dict[str, Any]:
    if s.argv is not None:
        return {"replicas": s.replicas, "argv": render_argv(s.argv, ctx), "env": {}, "cwd": None}
    return {
        "replicas": s.replicas,
        "method": s.method,
        "url": render_url(s.url, ctx),
        "headers": {},
        "json": {"replicas": s.replicas},
        "expect_status": [200, 201, 202, 204],
        "breaker": _breaker(s.breaker),
    }


_RENDERERS = {
    "command": _command,
    "process": _process,
    "systemd": lambda s, ctx: {"unit": render_arg(s.unit, ctx)},
    "http": _http,
    "clear": lambda s, ctx: {"paths": [render_path(p, ctx) for p in s.paths]},
    "scale": _scale,
    "python": lambda s, ctx: {"entrypoint": s.entrypoint, "kwargs": render_value(s.kwargs, ctx)},
    "wait": lambda s, ctx: {"duration_s": s.duration.total_seconds()},
    "probe": lambda s, ctx: {
        "probe": render_probe(s.probe, ctx),
        "within_s": s.within.total_seconds(),
    },
}


def describe(action: Action) -> str:
    """One line saying exactly what an action will do.

    >>> describe(Action("a", "command", {"argv": ["echo", "x y"], "env": {}, "cwd": None}))
    "a: command ['echo', 'x y']"
    """
    p = action.params
    what = {
        "command": lambda: f"{p.get('argv')}" + (f" in {p['cwd']}" if p.get("cwd") else ""),
        "process": lambda: f"{p['action']} pidfile {p['pidfile']} start {p['start']}",
        "systemd": lambda: f"systemctl restart {p['unit']}",
        "http": lambda: f"{p['method']} {p['url']} json={p['json']!r}",
        "clear": lambda: f"clear {p['paths']}",
        "scale": lambda: f"to {p['replicas']} via {p.get('argv') or p.get('url')}",
        "python": lambda: f"{p['entrypoint']}(**{p['kwargs']!r})",
        "wait": lambda: f"{p['duration_s']:g}s",
        "probe": lambda: f"{_probe_text(p['probe'])} within {p['within_s']:g}s",
    }[action.kind]()
    text = f"{action.name}: {action.kind} {what}"
    if action.rollback:
        text += f" (rollback: {describe(action.rollback)})"
    return text


def _probe_text(probe: dict[str, Any]) -> str:
    if probe["http"]:
        return f"GET {probe['http']} expecting {probe['expect_status']}"
    if probe["tcp"]:
        return f"connect {probe['tcp']}"
    return f"run {probe['command']}"


def plan_markdown(the_plan: Plan) -> str:
    """Markdown listing every check and action, for the approval form and the run report."""
    procedure = the_plan.procedure
    lines = [f"## Recovery `{procedure.name}` on `{the_plan.target}`", ""]
    if procedure.description:
        lines += [procedure.description, ""]
    for check in the_plan.preconditions:
        lines.append(f"- precondition: `{_probe_text(check)}` must be {check['expect']}")
    lines += _item_lines(the_plan.items)
    if the_plan.verification:
        verification = the_plan.verification
        lines.append(
            f"- verify: `{_probe_text(verification)}` within {verification['within_s']:g}s"
        )
    return "\n".join(lines)


def _item_lines(items: list[Action | Group]) -> list[str]:
    lines = []
    for item in items:
        if isinstance(item, Group):
            lines.append(f"- **{item.name}** (in parallel):")
            lines += [f"    - `{describe(a)}`" for a in item.actions]
        else:
            lines.append(f"- `{describe(item)}`")
    return lines
