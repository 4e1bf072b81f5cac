"""The static dbt docs site: built once per manifest and engine, copied to every data dir, rebuilt on change."""

from orchestration.lib.dbt_docs import write_dbt_docs


def test_a_site_is_built_once_per_manifest_and_engine(tmp_path):
    manifest = tmp_path / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text('{"v": 1}')
    builds = []

    def generate(build):
        builds.append(build)
        build.mkdir(parents=True)
        (build / "static_index.html").write_text(f"<html>build {len(builds)}</html>")

    first, second = tmp_path / "a" / "docs" / "dbt", tmp_path / "b" / "docs" / "dbt"
    assert write_dbt_docs(manifest, first, "duckdb", generate)
    assert not write_dbt_docs(manifest, first, "duckdb", generate)  # up to date
    assert write_dbt_docs(manifest, second, "duckdb", generate)  # another data dir: copied, not built
    assert len(builds) == 1 and (second / "index.html").read_text() == "<html>build 1</html>"
    assert write_dbt_docs(manifest, second, "postgres", generate) is False  # the site is current for its manifest
    manifest.write_text('{"v": 2}')
    assert write_dbt_docs(manifest, first, "duckdb", generate)
    assert len(builds) == 2 and (first / "index.html").read_text() == "<html>build 2</html>"
    assert not list(first.parent.glob(".dbt_docs_build*"))
