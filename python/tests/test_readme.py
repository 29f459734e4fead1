"""The README's Python example is test_readme_example.py, word for word."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parents[1] / "README.md"


def test_the_readme_shows_the_example_that_runs() -> None:
    example = (HERE / "test_readme_example.py").read_text()
    assert f"```python\n{example}```\n" in README.read_text(), (
        "README.md's pytest example differs from python/tests/test_readme_example.py"
    )
