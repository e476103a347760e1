"""The error of a result that OSCAL cannot express."""

from __future__ import annotations

from compliance.errors import ComplianceError, ExitCode


class OscalExportError(ComplianceError):
    """The result cannot be expressed as OSCAL assessment results."""

    exit_code = ExitCode.INVALID_CONFIG
