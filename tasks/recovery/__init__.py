"""Recovery adapters: trigger, safety gate and audit, steps and approvals, remediation."""
