#!/bin/sh
# Re-record the checkov outputs of this folder (see README.md). Run from anywhere:
#   sh tests/assets/scanners/checkov/record.sh [path/to/checkov]
# The fixtures are copied to /tmp/checkov-fixtures first, so the recorded absolute paths
# do not depend on where the repository is checked out.
set -u
here=$(cd "$(dirname "$0")" && pwd)
checkov=${1:-checkov}
rm -rf /tmp/checkov-fixtures && cp -R "$here/fixtures" /tmp/checkov-fixtures
cd /tmp/checkov-fixtures || exit 1
# The adapter's environment (compliance/scanners/checkov/scanner.py, ENV), abridged to the
# variables that matter here.
export CHECKOV_PARALLELIZATION_TYPE=none CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE \
  DOWNLOAD_EXTERNAL_MODULES=false CKV_NO_FAIL_ON_CRASH=false LOG_LEVEL=WARNING
common="-o json --skip-download --skip-results-upload --soft-fail"
record() {
  out=$1; shift
  "$checkov" "$@" $common > "$here/$out"
  echo "$out: exit $?"
}
record terraform.json --framework terraform --directory=terraform
record files.json --framework cloudformation kubernetes dockerfile github_actions \
  --file=.github/workflows/ci.yml --file=cfn/bucket.yaml --file=docker/Dockerfile \
  --file=k8s/pod.yaml
record workflow.json --framework github_actions --file=.github/workflows/ci.yml
record nothing.json --framework cloudformation kubernetes --file=conf/settings.yaml
record parse_error_tf.json --framework terraform --directory=broken
record parse_error_files.json --framework cloudformation kubernetes \
  --file=invalid/template.yaml --file=invalid/pod.yaml
# Skipped checks: inline comments, CloudFormation Metadata, Kubernetes annotations (skips/),
# and checkov's own baseline reported as skipped (baseline/).
record skips.json --framework terraform cloudformation kubernetes dockerfile github_actions \
  --directory=skips
record baseline.json --framework terraform --directory=baseline \
  --baseline=baseline/checkov-baseline.json --output-baseline-as-skipped
