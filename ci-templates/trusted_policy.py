"""Write the trusted config for scanning a pull request: the base commit's config, with
every policy the pull request could otherwise bring in pinned to the base commit's files.

Usage: python trusted_policy.py BASE_CHECKOUT  (prints the config's path for --config)

The GitLab template and the Jenkinsfile carry a copy of this file (a test keeps them equal).

Without it, a policy that the base's config does not name is looked up under the scanned
root, the pull request's own checkout: a pull request could add a waivers file or loosen
the gate. So gate and waivers are always named (the bundled gate, an empty waiver list when
the base has none), and so is the residency policy when the base has one.
"""

import shutil
import sys
from pathlib import Path

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: compliance depends on tomli there
    import tomli as tomllib

from compliance.config import bundled_policy_dir

base = Path(sys.argv[1]).resolve()
config: dict = {"version": 1}
if (base / "compliance.yaml").is_file():
    config = yaml.safe_load((base / "compliance.yaml").read_text(encoding="utf-8")) or config
elif (base / "pyproject.toml").is_file():
    pyproject = tomllib.loads((base / "pyproject.toml").read_text(encoding="utf-8"))
    config = pyproject.get("tool", {}).get("compliance") or config
policy = config.get("policy") or {}
if not policy.get("gate"):
    if not (base / "policies" / "gate.yaml").is_file():
        (base / "policies").mkdir(exist_ok=True)
        shutil.copyfile(bundled_policy_dir() / "gate.yaml", base / "policies" / "gate.yaml")
    policy["gate"] = "policies/gate.yaml"
if not policy.get("waivers"):
    if not (base / "policies" / "waivers.yaml").is_file():
        (base / "policies").mkdir(exist_ok=True)
        (base / "policies" / "waivers.yaml").write_text("version: 1\nwaivers: []\n")
    policy["waivers"] = "policies/waivers.yaml"
config["policy"] = policy
residency = config.get("residency") or {}
if not residency.get("policy") and (base / "policies" / "residency.yaml").is_file():
    config["residency"] = {**residency, "policy": "policies/residency.yaml"}
target = base / ".compliance-trusted.yaml"
target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
print(target)
