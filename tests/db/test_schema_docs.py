"""docs/schema.md is generated from the models and must be regenerated when they change."""

from click.testing import CliRunner

from portal.models.base import Base
from portal.schema_docs import OUTPUT, render, schema_docs_command


def test_schema_docs_are_up_to_date():
    assert OUTPUT.read_text() == render(), "docs/schema.md is stale: run `flask schema-docs`"


def test_schema_docs_cover_every_table_and_relationship():
    text = render()
    assert text.count("```mermaid\nerDiagram") == 1
    for table in Base.metadata.tables.values():
        assert f"\n## {table.name}\n" in text
        assert f"    {table.name} {{" in text
        assert "(undocumented)" not in text
        for fk in table.foreign_keys:
            assert f'--o{{ {table.name} : "{fk.parent.name}"' in text


def test_schema_docs_command_check_mode():
    result = CliRunner().invoke(schema_docs_command, ["--check"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
