"""The README's Python example runs as written (users copy it first)."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README lost its Python example"
    for code in blocks:
        exec(compile(code, str(README), "exec"), {})
    total, converged = capsys.readouterr().out.split()[-2:]
    assert int(converged) == 200 and int(total) > 200
