"""Human-readable views of compiled rules for ``rulec compile``: a summary and the rule trees.

Trees are printed without recursion (graphs may be deep), and a node met again inside the
same rule is shown once and then referred to as ``#id (above)``.
"""

from __future__ import annotations

from collections import Counter

from rulec.ir import CompiledRules, Const, Node, Ref


def summary_lines(c: CompiledRules) -> list[str]:
    roles = Counter(d.role for d in c.declarations)
    kinds = Counter(r.kind for r in c.rules)
    ops = Counter(n.op for n in c.nodes)
    shared = c.shared_nodes()
    head = f"{c.source_name}: task {c.task_name}" if c.task_name else f"{c.source_name}"
    lines = [head]
    if c.instruction:
        lines.append(f'  instruction: "{c.instruction}"')
    lines.append(
        f"  declarations: {len(c.declarations)} "
        f"({roles['object']} object{'s' if roles['object'] != 1 else ''}, "
        f"{roles['region']} region{'s' if roles['region'] != 1 else ''}, "
        f"{roles['let']} let{'s' if roles['let'] != 1 else ''})"
    )
    lines.append(f"  rules: {len(c.rules)} ({kinds['goal']} goal, {kinds['process']} process)")
    detectors = sum(ops[o] for o in ("color", "box"))
    lines.append(f"  graph: {len(c.nodes)} nodes, {len(shared)} shared, {detectors} detector{'s' if detectors != 1 else ''}")
    if c.num_frames is not None:
        lines.append(f"  frames: {c.num_frames}")
    return lines


def _node_head(n: Node) -> str:
    consts = []
    for a in n.args:
        if isinstance(a, Const):
            consts.append(a.text())
    text = f"#{n.id} {n.op}"
    if consts:
        text += "(" + ", ".join(consts) + ")"
    if n.inputs:
        text += " [" + ", ".join(n.inputs) + "]"
    return f"{text}  {n.kind.value}  {n.label}"


def rule_tree_lines(c: CompiledRules, root: int) -> list[str]:
    lines: list[str] = []
    seen: set[int] = set()
    stack: list[tuple[int, str, str]] = [(root, "", "")]  # node, prefix for this line, prefix for children
    while stack:
        node_id, prefix, child_prefix = stack.pop()
        n = c.nodes[node_id]
        if node_id in seen:
            lines.append(f"{prefix}#{node_id} (above)")
            continue
        seen.add(node_id)
        lines.append(prefix + _node_head(n))
        refs = [a.node for a in n.args if isinstance(a, Ref)]
        for i in reversed(range(len(refs))):
            last = i == len(refs) - 1
            stack.append((refs[i], child_prefix + ("└─ " if last else "├─ "), child_prefix + ("   " if last else "│  ")))
    return lines


def text_report(c: CompiledRules) -> str:
    lines = summary_lines(c)
    for r in c.rules:
        weight = "" if r.weight == 1.0 else f" weight {r.weight:g}"
        lines.append("")
        lines.append(f"{r.kind} {r.name}{weight} : {r.text}")
        lines.extend("  " + line for line in rule_tree_lines(c, r.root))
    return "\n".join(lines) + "\n"
