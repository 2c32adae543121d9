"""Lowering to the graph IR: CSE, negation normal form, let inlining, the fixed lowerings."""

import json
import sys
import types

import pytest

from rulec import compile_rules
from rulec.ir import CompiledRules, Const, Ref
from rulec.primitives.registry import REGISTRY, Kind

HEAD = 'object agent = color("#e53935")\nregion goal = color("#43a047") at start\nregion walls = color("#000000") at start\n'


def compiled(body: str, **kw) -> CompiledRules:
    return compile_rules(HEAD + body, **kw)


def root(c: CompiledRules, name: str = "g"):
    return c.nodes[c.rule(name).root]


def structure(c: CompiledRules, node_id: int):
    """A node as a nested tuple of (op, args, inputs), independent of ids and labels."""
    n = c.nodes[node_id]
    args = tuple(structure(c, a.node) if isinstance(a, Ref) else ("const", a.value) for a in n.args)
    return (n.op, args, n.inputs)


def test_nodes_are_topological_with_ids_equal_to_positions():
    c = compiled("goal g : inside(agent, goal) then inside(agent, walls)\nprocess p : always speed(agent) < 0.1\n")
    for i, n in enumerate(c.nodes):
        assert n.id == i
        assert all(r < i for r in n.refs())
        assert n.op in REGISTRY and n.kind == REGISTRY[n.op].result


def test_same_object_in_five_rules_is_one_detector_node():
    rules = "".join(f"goal r{i} : {f}\n" for i, f in enumerate([
        "at end inside(agent, goal)", "always present(agent)", "always speed(agent) < 0.2",
        "eventually near(agent, goal)", "always not touches(agent, walls)"]))
    c = compiled(rules)
    detectors = [n for n in c.nodes if n.op == "color" and n.args[0] == Const("#e53935") and n.inputs == ("video",)]
    assert len(detectors) == 1
    users = [n for n in c.nodes if Ref(detectors[0].id) in n.args]
    assert len(users) == 5
    assert detectors[0].id in c.shared_nodes()


def test_identical_subexpressions_written_twice_are_one_node():
    c = compiled("goal g : inside(agent, goal) and inside(agent, goal, frac=0.9)\n")
    assert sum(n.op == "inside" for n in c.nodes) == 1


def test_keyword_defaults_are_filled_in_registry_order():
    c = compiled("goal g : near(agent, goal)\n")
    goal = c.nodes[root(c).args[1].node]
    assert root(c).args[0] == Ref(0) and root(c).args[2] == Const(0.15)
    assert goal.op == "fill_holes" and goal.args[0] == Ref(1)  # a region frozen at start: holes under objects filled
    assert c.nodes[0].args == (Const("#e53935"), Const(20.0))


def test_at_start_replaces_video_input_by_start():
    c = compiled("goal g : unchanged(walls) and present(agent at start)\n")
    filled = c.nodes[c.declarations[2].node]
    walls = c.nodes[filled.args[0].node]
    assert filled.op == "fill_holes" and walls.op == "color" and walls.inputs == ("start",)
    assert c.nodes[c.declarations[0].node].inputs == ("video",)
    unchanged = next(n for n in c.nodes if n.op == "unchanged")
    assert unchanged.inputs == ("video", "start")
    frozen_agent = [n for n in c.nodes if n.op == "color" and n.args[0] == Const("#e53935") and n.inputs == ("start",)]
    assert len(frozen_agent) == 1 and frozen_agent[0].label == 'agent at start'.replace("agent", 'color("#e53935")')


def test_freeze_reaches_through_region_algebra_and_morphology():
    c = compiled("region zone = grow(agent, 2px) - walls\ngoal g : present(zone at start)\n")
    present = root(c)
    frozen = present.args[0].node
    assert structure(c, frozen) == ("mask_minus", (
        ("grow", (("color", (("const", "#e53935"), ("const", 20.0)), ("start",)), ("const", 2), ("const", "px")), ()),
        ("fill_holes", (("color", (("const", "#000000"), ("const", 20.0)), ("start",)),
                        ("color", (("const", "#e53935"), ("const", 20.0)), ("start",))), ()),
    ), ())


def test_region_algebra_is_type_directed():
    c = compiled("region floor = not walls and not goal or goal - walls\ngoal g : inside(agent, floor)\n")
    ops = {n.op for n in c.nodes}
    assert {"mask_not", "mask_and", "mask_or", "mask_minus"} <= ops
    assert not ops & {"and", "or", "neg"}


def test_negation_is_pushed_down_to_atoms():
    c = compiled("goal g : not (always (inside(agent, goal) and eventually[2:5] present(agent)) "
                 "or (x(agent) < 0.5 until at end near(agent, goal)))\n")
    for n in c.nodes:
        if n.op == "neg":
            child = c.nodes[n.args[0].node]
            assert REGISTRY[child.op].category in ("atom", "comparison")
    r = root(c)
    assert r.op == "and"
    ev, release = (c.nodes[a.node] for a in r.args)
    assert ev.op == "eventually" and ev.args[1:] == (Const(None), Const(None), Const(0))
    inner = c.nodes[ev.args[0].node]
    assert inner.op == "or"
    always = c.nodes[inner.args[1].node]
    assert always.op == "always" and always.args[1:] == (Const(2), Const(5), Const(0))
    assert release.op == "release"
    assert c.nodes[release.args[1].node].op == "at_end"


def test_double_negation_and_implies():
    c1 = compiled("goal g : not not present(agent)\n")
    assert root(c1).op == "present"
    c2 = compiled("goal g : present(agent) implies inside(agent, goal)\n")
    r = root(c2)
    assert r.op == "or" and [c2.nodes[a.node].op for a in r.args] == ["neg", "inside"]
    c3 = compiled("goal g : not (present(agent) implies inside(agent, goal))\n")
    r = root(c3)
    assert r.op == "and" and [c3.nodes[a.node].op for a in r.args] == ["present", "neg"]


def test_comparisons_lower_to_lt_gt_with_const_operands():
    c = compiled("goal g : speed(agent) <= 0.1 and 0.3 > area(agent) and x(agent) >= x(goal)\n")
    lt, gt1, gt2 = (c.nodes[a.node] for a in root(c).args)
    assert lt.op == "lt" and lt.args[1] == Const(0.1)
    assert gt1.op == "gt" and gt1.args[0] == Const(0.3) and isinstance(gt1.args[1], Ref)
    assert gt2.op == "gt" and all(isinstance(a, Ref) for a in gt2.args)
    c2 = compiled("goal g : not speed(agent) < 0.1\n")
    neg = root(c2)
    assert neg.op == "neg" and c2.nodes[neg.args[0].node].op == "lt"


def test_then_lowering():
    c = compiled("goal g : inside(agent, goal) then[0:6] present(agent)\n")
    r = root(c)
    assert r.op == "eventually" and r.args[1:] == (Const(0), Const(6), Const(0))
    both = c.nodes[r.args[0].node]
    assert both.op == "and"
    a, later = (c.nodes[x.node] for x in both.args)
    assert a.op == "inside" and later.op == "eventually" and later.args[1:] == (Const(None), Const(None), Const(1))
    assert c.nodes[later.args[0].node].op == "present"


def test_progress_lowering():
    c = compiled("goal g : progress[1:] distance(agent, goal)\n")
    r = root(c)
    assert r.op == "always" and r.args[1:] == (Const(1), Const(None), Const(0))
    dec = c.nodes[r.args[0].node]
    assert dec.op == "decreasing" and c.nodes[dec.args[0].node].op == "distance"


def test_and_or_are_nary_and_flattened():
    c = compiled("goal g : present(agent) and (inside(agent, goal) and (near(agent, goal) and not "
                 "(touches(agent, walls) or moving(agent))))\n")
    r = root(c)
    assert r.op == "and" and len(r.args) == 5


def test_let_inlining_does_not_change_the_graph():
    with_let = compiled("let p = inside(agent, goal) or near(agent, goal)\n"
                        "let q = not p and present(agent)\n"
                        "goal g : q or p\ngoal h : not q\n")
    inline = compiled("goal g : (not (inside(agent, goal) or near(agent, goal)) and present(agent)) "
                      "or (inside(agent, goal) or near(agent, goal))\n"
                      "goal h : not (not (inside(agent, goal) or near(agent, goal)) and present(agent))\n")
    for rule in ("g", "h"):
        assert structure(with_let, with_let.rule(rule).root) == structure(inline, inline.rule(rule).root)


def test_mask_and_measure_lets():
    c = compiled("let zone = grow(goal, 1px)\nlet d = distance(agent, zone)\ngoal g : progress d and d < 0.2\n")
    assert [d.role for d in c.declarations][-2:] == ["let", "let"]
    assert c.nodes[c.declarations[-2].node].kind == Kind.MASK
    assert c.nodes[c.declarations[-1].node].kind == Kind.SIGNAL


def test_labels_are_canonical_text():
    c = compiled("goal g : always   not( inside(agent,goal) )\n")
    assert root(c).label == "always not inside(agent, goal)"
    assert c.rule("g").text == "always not inside(agent, goal)"


def test_rules_keep_kind_weight_and_span():
    c = compiled("goal g : present(agent)\nprocess p : always present(agent) weight 0.5\n")
    g, p = c.rules
    assert (g.kind, g.weight, p.kind, p.weight) == ("goal", 1.0, "process", 0.5)
    assert p.span.line == 5 and p.span.column == 1


def test_task_header_and_num_frames():
    c = compile_rules('task maze "Solve it."\n' + HEAD + "goal g : eventually[-2:] present(agent)\n", num_frames=16)
    assert (c.task_name, c.instruction, c.num_frames) == ("maze", "Solve it.", 16)


def test_num_frames_turns_out_of_video_windows_into_errors():
    from rulec import RulesError

    with pytest.raises(RulesError) as err:
        compiled("goal g : eventually[0:20] present(agent)\ngoal h : always[-17:] present(agent)\n", num_frames=16)
    assert [d.code for d in err.value.diagnostics] == ["E302", "E302"]
    compiled("goal g : eventually[0:16] present(agent) and always[-16:] present(agent)\n", num_frames=16)
    with pytest.raises(ValueError):
        compiled("goal g : present(agent)\n", num_frames=0)


def test_to_json_is_serializable_and_complete():
    c = compiled("goal g : inside(agent, goal)\n")
    data = json.loads(json.dumps(c.to_json()))
    assert len(data["nodes"]) == len(c.nodes)
    assert data["nodes"][0]["args"] == [{"const": "#e53935"}, {"const": 20.0}]
    assert data["rules"][0]["root"] == c.rules[0].root
    assert {d["name"] for d in data["declarations"]} == {"agent", "goal", "walls"}


def test_to_dot_has_every_node_and_edge():
    c = compiled("goal g : inside(agent, goal)\n")
    dot = c.to_dot()
    assert dot.startswith("digraph") and all(f"n{n.id} [" in dot for n in c.nodes)
    inside = root(c)
    assert all(f"n{a} -> n{inside.id};" in dot for a in inside.refs()) and "-> r0;" in dot


def test_to_reward_delegates_to_rulec_reward(monkeypatch):
    calls = []
    fake = types.ModuleType("rulec.reward")
    fake.build_reward = lambda rules, *a, **k: calls.append((rules, a, k)) or "module"
    monkeypatch.setitem(sys.modules, "rulec.reward", fake)
    c = compiled("goal g : present(agent)\n")
    assert c.to_reward("exact", beta=5.0) == "module"
    assert calls == [(c, ("exact",), {"beta": 5.0})]


def test_path_and_text_inputs(tmp_path):
    from rulec import RulesError

    f = tmp_path / "r.rules"
    f.write_text(HEAD + "goal g : present(agent)\n")
    assert compile_rules(f).source_name == str(f)
    assert compile_rules(str(f), name="x.rules").source_name == "x.rules"
    with pytest.raises(RulesError) as err:
        compile_rules(tmp_path / "missing.rules")
    assert err.value.diagnostics[0].code == "E013"
    (tmp_path / "bin.rules").write_bytes(b"goal g : \xff\n")
    with pytest.raises(RulesError) as err:
        compile_rules(tmp_path / "bin.rules")
    assert err.value.diagnostics[0].code == "E013"


def test_compile_text_never_reads_a_file(tmp_path):
    """Untrusted text that names a file is parsed as rules, not opened."""
    from rulec import RulesError, compile_text

    secret = tmp_path / "secret.rules"
    secret.write_text('object a = color("#e53935")\ngoal g : always present(a)\n')
    assert rulec_compile_ok(secret)
    with pytest.raises(RulesError) as err:
        compile_text(str(secret))
    assert "secret.rules" in str(err.value)  # the path itself failed to parse as rules
    assert "present" not in str(err.value)  # the file's content was never read


def rulec_compile_ok(path) -> bool:
    from rulec import compile_rules

    return compile_rules(path).rules[0].name == "g"


def test_node_arguments_are_read_by_parameter_name():
    c = compiled('goal g : eventually[-2:] inside(agent, goal, frac=0.8)\n')
    inside = next(n for n in c.nodes if n.op == "inside")
    eventually = next(n for n in c.nodes if n.op == "eventually")
    assert inside.arg("frac") == Const(0.8)
    assert (eventually.arg("start"), eventually.arg("stop"), eventually.arg("offset")) == (Const(-2), Const(None), Const(0))
    assert eventually.arg("a") == Ref(inside.id)
    assert eventually.arg_values({inside.id: "value"}) == ["value", -2, None, 0]
    with pytest.raises(KeyError):
        inside.arg("tol")
