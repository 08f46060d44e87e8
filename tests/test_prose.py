"""Lecture prose, shown slides and stated numbers (tools/prose.py) on every notebook, and the
checker catching each kind of violation planted in a small notebook."""

import re

import nbformat
import pytest

import prose
from course import course_notebooks
from nbbuild import code, md, write_notebook


@pytest.mark.parametrize("path", course_notebooks(), ids=lambda p: p.name)
def test_prose_and_shown_cells_follow_the_writing_rules(path):
    found = prose.problems(path)
    assert not found, (f"{len(found)} problems (python tools/prose.py notebooks/{path.name}):\n"
                       + "\n".join(map(str, found)))


def test_glossary_is_well_formed():
    terms = prose.glossary()
    chosen = {t.chinese for t in terms}
    assert len(chosen) == len(terms), "a Chinese term listed twice"
    assert [t for t in terms if not re.fullmatch(r"\d\d", t.introduced_in) or not t.english
            or not prose.HAS_CJK.search(t.chinese) or chosen & set(t.forbidden)] == [], (
        "a term without notebook NN, English or Chinese characters, or chosen and forbidden")


PLANTED = [
    ("glossary", "后向模式只要一遍反向扫描。这里又写成反向模式。"),
    ("repeated gloss", "自动微分（automatic differentiation）很有用。"),
    ("ascii quotes", '网络在"找"什么？'),
    ("half-width brackets", "见练习 (参考答案在下面)。"),
    ("meta", "原讲义没有这一段。"),
    ("telegraphic", "训练 = 梯度下降。"),
    ("line break", "第一句话。\n第二句话。"),
]


def test_the_checker_catches_each_planted_violation(tmp_path):
    figure = code("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()", slide="subslide")
    figure.outputs = [nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"})]
    planted = write_notebook(tmp_path / "09_planted.ipynb", [
        md("# 09 标题 (Title)\n\n自动微分（automatic differentiation）是一种编程范式。"),
        *(md(f"## 第 {i} 节\n\n{text}") for i, (_, text) in enumerate(PLANTED)),
        md("## 只有标题"),
        code("x = 1\nassert x == 1\nprint(node._parents)\n" + "y = 2\n" * 12, slide="subslide"),
        figure], summary="planted violations")
    rules = {rule for _, rule, _ in prose.problems(planted)}
    expected = {rule for rule, _ in PLANTED} | {"assert", "private name", "long code", "empty slide",
                                                "figure without alt text", "figure unexplained"}
    assert expected <= rules, f"missed: {expected - rules}"


def test_a_clean_cell_passes():
    nb = nbformat.v4.new_notebook(cells=[
        md("# 09 标题 (Title)\n\n后向模式（reverse mode，也叫反向模式）只需要一次反向扫描。"),
        md("## 图\n\n图中的曲线是损失函数“找”到的路径（见第 01 讲）；$f(x) = x$ 与 `a = b` 不算。"),
        md("## 三步 【选讲】\n四步之一：\n- 第一步；\n- 第二步。\n\n$$x = 1$$\n公式之后。"),
        md("## 代码块\n\n代码块里的等号不算：\n\n```python\nloss = criterion(outputs, labels)\n```"),
        code("print('_x is a name in a string')  # and _y one in a comment", slide="-"),
    ])
    # 反向模式 named once beside 后向模式, in the notebook that introduces 后向模式: allowed
    terms = [t._replace(introduced_in="09") for t in prose.glossary() if t.chinese == "后向模式"]
    assert [*prose.prose_problems(nb, "09", terms), *prose.slide_problems(nb)] == []
    # ... but only once in that notebook
    nb.cells.append(nbformat.v4.new_markdown_cell("后向模式又叫反向模式。"))
    assert [rule for _, rule, _ in prose.prose_problems(nb, "09", terms)] == ["glossary"]
    # a private name the code prints is shown all the same
    nb.cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout", text="<Node _parents>")]
    assert [detail for _, rule, detail in prose.slide_problems(nb)] == ["_parents"]


def test_the_number_check_finds_a_planted_number():
    def printed(source, text, tags=()):
        return nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)}, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=text)])

    nb = nbformat.v4.new_notebook(cells=[
        printed("print(4 * 10 + 2)", "42\n"), md("网络有 57 个参数。"), md("网络有 42 个参数，比值约 0.93。"),
        printed("print(t)", "ratio 46.7, 31.6, 25.0\n", tags=["nbval-ignore-output"]),
        md("比值从 30 左右降到 20 左右。")])
    found = [detail for _, _, detail in prose.number_problems(nb, "99", {})]
    assert len(found) == 4, found
    assert found[0].startswith("57 is not printed") and found[1].startswith("0.93 is not printed")
    assert found[2].startswith("30 is quoted from the nbval-ignore-output cell(s) c3"), found
    assert found[3].startswith("20 is not printed"), found
