"""Pure recovery logic: plans and templates, safety gate, remediation, suppression, reports."""
