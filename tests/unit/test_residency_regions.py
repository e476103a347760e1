"""The region tables: groups expand, names match whatever the clouds write, typos are errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from compliance.config import bundled_policy_dir
from compliance.errors import ConfigError
from compliance.residency.regions import (
    GLOBAL,
    LocationKind,
    Provider,
    RegionTables,
    extended,
    load_region_tables,
)

TABLES_DIR = bundled_policy_dir() / "residency" / "regions"


@pytest.fixture(scope="module")
def tables() -> RegionTables:
    return load_region_tables(TABLES_DIR, "regions/")


def test_every_provider_has_a_table_with_the_common_groups(tables: RegionTables) -> None:
    for provider in Provider:
        table = tables[provider]
        assert {"eu", "europe", "us", "apac", "uk"} <= set(table.groups)
        assert table.lookup(GLOBAL) is not None
        assert table.lookup(GLOBAL).kind is LocationKind.GLOBAL  # type: ignore[union-attr]
        assert len(table.locations) > 30


def test_eu_means_the_eea_not_every_region_with_eu_in_its_name(tables: RegionTables) -> None:
    aws = tables[Provider.AWS]
    eu = aws.expand("eu")
    assert eu is not None
    assert {"eu-west-1", "eu-central-1", "eu-north-1", "eu-south-2", "eu-west-3"} <= eu
    assert "eu-west-2" not in eu  # London
    assert "eu-central-2" not in eu  # Zurich
    europe = aws.expand("europe")
    assert europe is not None and {"eu-west-2", "eu-central-2"} <= europe
    assert aws.expand("us") == {
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "us-gov-east-1",
        "us-gov-west-1",
    }
    assert GLOBAL not in (aws.expand("eu") or set())


def test_google_groups_hold_multi_and_dual_regions_by_their_regions(tables: RegionTables) -> None:
    gcp = tables[Provider.GCP]
    eu = gcp.expand("eu")
    assert eu is not None
    assert {"EU", "EUR4", "europe-west1", "europe-north2"} <= eu
    assert "EUR5" not in eu  # Belgium and London
    assert "EUR5" in (gcp.expand("europe") or set())
    assert gcp.expand("EU") == {"EU"}  # upper case: the multi-region, not the group
    dual = gcp.lookup("eur4")
    assert dual is not None and dual.kind is LocationKind.DUAL_REGION
    assert dual.regions == ("europe-north1", "europe-west4")
    assert gcp.lookup("EUROPE-WEST1") is not None
    assert gcp.zone_region("europe-west1-b") == gcp.lookup("europe-west1")
    assert gcp.zone_region("europe-west1") is None


def test_azure_names_and_pairs(tables: RegionTables) -> None:
    azure = tables[Provider.AZURE]
    west = azure.lookup("West Europe")
    assert west is not None and west.id == "westeurope" and west.pair == "northeurope"
    assert azure.lookup("polandcentral").pair is None  # type: ignore[union-attr]
    brazil = azure.lookup("brazilsouth")
    assert brazil is not None and brazil.pair == "southcentralus"  # outside its geography
    for location in azure.locations.values():
        if location.pair is not None:
            assert azure.lookup(location.pair) is not None, location.id


def test_zones_and_unknown_clouds(tables: RegionTables) -> None:
    aws = tables[Provider.AWS]
    assert aws.zone_region("eu-west-1a") == aws.lookup("eu-west-1")
    assert aws.zone_region("us-gov-west-1b") == aws.lookup("us-gov-west-1")
    assert [loc.id for loc in tables.identify("eu-west-1")] == ["eu-west-1"]
    assert [loc.provider for loc in tables.identify("westeurope")] == [Provider.AZURE]
    assert [loc.id for loc in tables.identify("europe-west1-b")] == ["europe-west1"]
    assert tables.identify("dc-frankfurt-1") == []
    assert tables.identify("global") == []


def test_suggestions_for_typos(tables: RegionTables) -> None:
    assert tables[Provider.AWS].suggestions("eu-wset-1")[0] == "eu-west-1"
    assert tables[Provider.AWS].expand("eu-wset-1") is None


def write_tables(folder: Path, **overrides: dict[str, object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for provider in Provider:
        data = yaml.safe_load((TABLES_DIR / f"{provider.value}.yaml").read_text())
        data.update(overrides.get(provider.value, {}))
        (folder / f"{provider.value}.yaml").write_text(yaml.safe_dump(data))
    return folder


@pytest.mark.parametrize(
    ("provider", "override", "expected"),
    [
        (
            "aws",
            {"locations": {"eu-west-1": {"name": "Ireland", "groups": ["eurozone"]}}},
            "t/aws.yaml: locations.eu-west-1.groups[0]: undeclared group 'eurozone'",
        ),
        (
            "aws",
            {"locations": {"eu-west-1": {"name": "Ireland", "country": "Ireland"}}},
            "t/aws.yaml: locations.eu-west-1.country: String should match pattern",
        ),
        (
            "aws",
            {"locations": {"eu-west-1": {"name": "Ireland", "continent": "EU"}}},
            "t/aws.yaml: locations.eu-west-1.continent: unknown key",
        ),
        (
            "gcp",
            {"locations": {"EUR9": {"kind": "dual-region", "name": "x", "regions": ["a", "b"]}}},
            "t/gcp.yaml: locations.EUR9.regions[0]: unknown region 'a'",
        ),
        (
            "azure",
            {"locations": {"westeurope": {"name": "West Europe", "pair": "nowhere"}}},
            "t/azure.yaml: locations.westeurope.pair: unknown region 'nowhere'",
        ),
        ("gcp", {"provider": "aws"}, "t/gcp.yaml: provider: expected 'gcp' in gcp.yaml"),
        ("aws", {"groups": {"EU": "upper case"}}, "t/aws.yaml: groups.EU: group names are"),
    ],
)
def test_a_broken_table_is_an_error_naming_file_and_key(
    tmp_path: Path, provider: str, override: dict[str, object], expected: str
) -> None:
    folder = write_tables(tmp_path / "t", **{provider: override})
    with pytest.raises(ConfigError) as caught:
        load_region_tables(folder, "t/")
    assert any(str(p).startswith(expected) for p in caught.value.problems), caught.value.problems


def test_a_missing_table_is_an_error(tmp_path: Path) -> None:
    folder = write_tables(tmp_path / "t")
    (folder / "azure.yaml").unlink()
    with pytest.raises(ConfigError) as caught:
        load_region_tables(folder, "t/")
    assert [str(p) for p in caught.value.problems] == ["t/azure.yaml: no such file"]


def test_a_policy_can_add_a_region_but_not_redefine_one(tables: RegionTables) -> None:
    problems: list[object] = []
    added = extended(
        tables,
        {"aws": {"eusc-de-east-1": {"name": "European Sovereign Cloud", "groups": ["eu"]}}},
        "p.yaml",
        "regions",
        problems,  # type: ignore[arg-type]
    )
    assert not problems
    assert "eusc-de-east-1" in (added[Provider.AWS].expand("eu") or set())
    assert "eusc-de-east-1" not in (tables[Provider.AWS].expand("eu") or set())
    problems.clear()
    extended(
        tables,
        {"aws": {"EU-WEST-1": {"name": "again"}}, "oracle": {"x": {"name": "y"}}},
        "p.yaml",
        "regions",
        problems,  # type: ignore[arg-type]
    )
    assert [str(p) for p in problems] == [
        "p.yaml: regions.aws.EU-WEST-1: location 'EU-WEST-1' is already defined",
        "p.yaml: regions.oracle: unknown provider (known: aws, gcp, azure)",
    ]
