"""Tests of the hidden tests, through the real autograder (nbgrader) in one shared run.

For every assignment: the instructor's solution gets full marks; the untouched release
gets zero and every test cell fails with NotImplementedError; every plausible wrong
implementation in tests/variants/ loses its function's points; every different correct
one keeps all points; the bundled example class grades as its files say.
"""

from __future__ import annotations

import nbformat
import pytest
from classbuild import dependencies, selected_assignments, variant_groups, variant_sections

from autograder.cells import function_parts
from autograder.paths import source_notebook

ASSIGNMENTS = selected_assignments()


def function_order(assignment: str) -> list[str]:
    return list(function_parts(source_notebook(assignment)))


def _variant_params():
    params = []
    for name in ASSIGNMENTS:
        for student, members in variant_groups(name):
            for m in members:
                params.append(pytest.param(name, student, m.function, m.kind, m.parts, m.keeps,
                                           id=f"{name[:2]}-{m.function}-{m.kind}-{m.label}"))
    return params


def _group_params():
    return [pytest.param(name, student, [m.function for m in members if m.kind == "wrong"],
                         id=student)
            for name in ASSIGNMENTS for student, members in variant_groups(name)]


def _explain(graded, student, assignment) -> str:
    res = graded.results.get((student, assignment), {})
    return (f"scores {graded.scores(student, assignment)}; grading ok={res.get('ok')} "
            f"{res.get('reason', '')}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_gets_full_marks(graded_class, assignment):
    student = f"{assignment[:2]}-solution"
    got, possible = graded_class.total(student, assignment)
    assert possible > 0, f"no graded cells found for {assignment}"
    assert got == possible, _explain(graded_class, student, assignment)
    assert graded_class.results[(student, assignment)]["ok"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_gets_zero_with_not_implemented(graded_class, assignment):
    student = f"{assignment[:2]}-blank"
    got, possible = graded_class.total(student, assignment)
    assert possible > 0 and got == 0, _explain(graded_class, student, assignment)
    nb = nbformat.read(graded_class.autograded(student, assignment), as_version=4)
    test_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                  and c.cell_type == "code"]
    assert test_cells
    for cell in test_cells:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        gid = cell.metadata["nbgrader"]["grade_id"]
        assert [e.ename for e in errors] == ["NotImplementedError"], (
            f"{gid}: expected one NotImplementedError, got {[(e.ename, e.evalue) for e in errors]}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_function_has_wrong_and_correct_variants(assignment):
    sections = variant_sections(assignment)
    parts = function_parts(source_notebook(assignment))
    for s in sections:
        unknown = (set(s[4]) | set(s[5])) - set(parts.get(s[0], {}))
        assert not unknown, (f"{assignment}: a variant of {s[0]} names parts {sorted(unknown)}, "
                             f"but its test cells are {sorted(parts.get(s[0], {}))}")
    for function in function_order(assignment):
        wrong = [s for s in sections if s[0] == function and s[1] == "wrong"]
        correct = [s for s in sections if s[0] == function and s[1] == "correct"]
        assert len(wrong) >= 3, f"{assignment}: {function} needs at least 3 wrong variants"
        assert len(correct) >= 1, f"{assignment}: {function} needs a correct variant"


@pytest.mark.parametrize("assignment,student,function,kind,parts,keeps", _variant_params())
def test_variant(graded_class, assignment, student, function, kind, parts, keeps):
    scores = graded_class.scores(student, assignment)
    assert scores, f"{student} was not graded: {_explain(graded_class, student, assignment)}"
    if kind == "wrong":
        points, possible = scores[function]
        assert points < possible, (
            f"a wrong {function} kept {points}/{possible} points: the hidden tests miss it")
        by_part = graded_class.parts(student, assignment)
        for part in parts:
            got, most = by_part[(function, part)]
            assert got < most, (f"a wrong {function} kept its {part} part ({got}/{most}): "
                                f"the hidden tests of that part miss it; parts: {by_part}")
        for part in keeps:
            got, most = by_part[(function, part)]
            assert got == most, (f"{function} lost its {part} part ({got}/{most}), which this variant "
                                 f"gets right: that part grades a rule it does not check; parts: {by_part}")
    else:  # (the rest of its notebook: test_variant_group_leaves_the_rest_of_the_notebook_intact)
        points, possible = scores[function]
        assert points == possible, (f"a correct {function} lost points ({points}/{possible}): "
                                    f"{graded_class.parts(student, assignment)}")


@pytest.mark.parametrize("assignment,student,wrong", _group_params())
def test_variant_group_leaves_the_rest_of_the_notebook_intact(graded_class, assignment, student,
                                                              wrong):
    """Variants share a submission only when no test can reach another's wrong code:
    every function but the wrong variants and those whose tests reach them keeps full
    points, the correct variants' included (a crash or leak from one variant would show
    here)."""
    deps = dependencies(assignment)
    scores = graded_class.scores(student, assignment)
    assert scores, f"{student} was not graded: {_explain(graded_class, student, assignment)}"
    for function, (points, possible) in scores.items():
        if function in wrong or deps.get(function, set()) & set(wrong):
            continue
        assert points == possible, f"{function} lost points in {student}: {scores}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_example_class_grades_as_described(graded_class, assignment):
    prefix = assignment[:2]
    examples = [e for e in graded_class.entries
                if e["assignment"] == assignment and e["kind"] == "example"]
    names = {e["label"] for e in examples}
    assert {"perfect", "blank"} <= names, f"{assignment}: examples need perfect.py and blank.py"
    assert len(names) >= 4, f"{assignment}: examples need at least two students with mistakes"
    for e in examples:
        got, possible = graded_class.total(e["student"], assignment)
        if e["label"] == "perfect":
            assert got == possible > 0
        elif e["label"] == "blank":
            assert got == 0
        else:
            assert 0 <= got < possible, f"{e['student']} has mistakes but got {got}/{possible}"
    assert graded_class.total(f"{prefix}-ex-perfect", assignment) == graded_class.total(
        f"{prefix}-solution", assignment)


def test_example_rule_skippers_keep_the_maths(graded_class):
    """Issue 16: the skips_the_rules students (right maths, no float64 conversion, no argument
    checks) keep every computation part, score more than 0 on every graded function, and
    together keep at least half the course's points (of the assignments selected).
    Points come from the source notebooks' metadata, never literals."""
    kept = course_total = 0.0
    for assignment in ASSIGNMENTS:
        student = f"{assignment[:2]}-ex-skips_the_rules"
        assert any(e["student"] == student for e in graded_class.entries), (
            f"{assignment}: needs an example student skips_the_rules.py")
        expected = function_parts(source_notebook(assignment))
        by_part = graded_class.parts(student, assignment)
        assert by_part, f"{student} was not graded: {_explain(graded_class, student, assignment)}"
        for function, parts in expected.items():
            for part, most in parts.items():
                assert by_part.get((function, part), (None, None))[1] == most, (
                    f"{assignment}: {function}/{part} graded out of {by_part.get((function, part))}, "
                    f"the source notebook says {most}")
            got, _ = by_part[(function, "computation")]
            assert got == parts["computation"], (
                f"{assignment}: {student} lost the computation part of {function} "
                f"({got}/{parts['computation']}): its hidden tests check a rule, not the maths; "
                f"parts: {by_part}")
            function_points = sum(by_part[(function, part)][0] for part in parts)
            assert function_points > 0, f"{assignment}: {student} scores 0 on {function}: {by_part}"
            kept += function_points
            course_total += sum(parts.values())
    assert course_total > 0
    assert kept >= course_total / 2, (
        f"the rule-skipping students keep {kept}/{course_total}, less than half")
