"""A scan result as an OSCAL 1.1 assessment-results document (docs/evidence.md).

`render_assessment_results` is a pure function of the ScanResult: the same result gives the
same bytes. The document has one `result` spanning the scan (`start`/`end`):

- `local-definitions`: the repository at its commit as the assessment subject (a component),
  and the scanners as assessment-assets components (type software, OSCAL prop `version`)
  used by one assessment platform, compliance itself;
- `reviewed-controls`: one control selection per framework; the controls this tool collects
  evidence for are included, the catalogue's manual controls are excluded;
- `observations`: one per finding, suppressed findings included (method TEST, type finding);
- `findings`: one per reviewed control, target `statement-id` `<control>_smt`: passed ->
  satisfied (reason pass), failed -> not-satisfied (reason fail), not-assessed ->
  not-satisfied (reason other, with why): OSCAL has no "not assessed" state, and a control
  whose evidence could not be collected must not read as satisfied.
- `import-ap` points at a back-matter resource: there is no separate assessment-plan
  document; the plan is the catalogues, mapping rules and policies the result lists with
  their SHA-256 digests, each a back-matter resource.

Modules: `document` (`render_assessment_results`: the document, its result and
back-matter), `controls` (reviewed controls and findings), `observations`, `ids` (UUIDs and
OSCAL control ids), `fields` (Markdown text and props), `errors`.
"""
