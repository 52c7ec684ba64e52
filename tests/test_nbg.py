"""autograder.nbg: the workspace's nbgrader_config.py keeps an instructor's settings; the
exchange's own files are not "extra files"."""

from __future__ import annotations

from traitlets.config.loader import PyFileConfigLoader

from autograder.nbg import EXCHANGE_FILES, extra_files, write_workspace_config


def _load(folder):
    return PyFileConfigLoader("nbgrader_config.py", str(folder)).load_config()


def test_workspace_config_is_written_and_loads_the_course(tmp_path):
    path = write_workspace_config(tmp_path, "sqlite:///one.db")
    config = _load(tmp_path)
    assert config.CourseDirectory.db_url == "sqlite:///one.db"
    assert config.CourseDirectory.root == str(tmp_path.resolve())
    assert config.CourseDirectory.course_id == "convolution-from-scratch"  # the course's own
    assert path.read_text().count("# >>>") == 1


def test_an_instructors_settings_survive_a_rerun(tmp_path):
    path = write_workspace_config(tmp_path, "sqlite:///one.db")
    path.write_text(path.read_text() + "c.Execute.timeout = 999  # mine\n")
    write_workspace_config(tmp_path, "sqlite:///two.db")
    text = path.read_text()
    assert "c.Execute.timeout = 999  # mine" in text and text.count("# >>>") == 1
    config = _load(tmp_path)
    assert config.Execute.timeout == 999 and config.CourseDirectory.db_url == "sqlite:///two.db"


def test_a_config_without_the_block_gets_it_on_top_and_keeps_the_rest(tmp_path):
    mine = "c = get_config()\nc.Execute.timeout = 7\n"
    (tmp_path / "nbgrader_config.py").write_text(mine)
    write_workspace_config(tmp_path, "sqlite:///x.db")
    text = (tmp_path / "nbgrader_config.py").read_text()
    assert text.endswith(mine) and _load(tmp_path).Execute.timeout == 7


def test_exchange_files_are_not_extra(tmp_path):
    for name in [*EXCHANGE_FILES, "a.ipynb", "notes.txt"]:
        (tmp_path / name).write_text("x")
    assert extra_files(tmp_path, {"a.ipynb"}) == ["notes.txt"]
