"""Workflow fields that nothing can feed are said at load, fail when required, and the evidence
counts only fields that really received a value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli import qharness_text
from tests.support.paths import EXAMPLE

#: The bundled example with its mobile number renamed to ``loyalty_tier`` in the payload, and
#: declared workflow fields of which ``loyaltyTier`` still reads the old camelCase name.
FIELDS = """
[[workflow.fields]]
name = "email"
jsonpath = "$.identityMap.Email[0].id"
required = {email_required}

[[workflow.fields]]
name = "ecid"
jsonpath = "$.identityMap.ECID[0].id"

[[workflow.fields]]
name = "firstName"
jsonpath = "$.person.name.firstName"

[[workflow.fields]]
name = "tier"
jsonpath = "$.loyalty_tier"

[[workflow.fields]]
name = "loyaltyTier"
jsonpath = "$.loyaltyTier"
required = {tier_required}
"""


def activation(tmp_path: Path, *, tier_required: bool, email_required: bool = False) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'target = "mobilePhone.number"', 'target = "loyalty_tier"'
    )
    text += FIELDS.format(
        tier_required=str(tier_required).lower(), email_required=str(email_required).lower()
    )
    path = tmp_path / "activation.toml"
    path.write_text(text, encoding="utf-8")
    return path


def certify(path: Path) -> tuple[int, str, dict[str, Any]]:
    report = path.with_suffix(".json")
    code, _, err = qharness_text(
        "certify", str(path), "--examples", "60", "--seed", "3", "--json", str(report)
    )
    return code, err, json.loads(report.read_text())["checks"]


def test_an_optional_field_never_fed_is_warned_and_never_claimed(tmp_path: Path) -> None:
    """Load warning with did-you-mean; the run passes, but no evidence says 5 fields got values."""
    code, err, checks = certify(activation(tmp_path, tier_required=False))
    assert "optional field 'loyaltyTier' ($.loyaltyTier) can never receive a value" in err
    assert "did you mean '$.loyalty_tier'" in err
    assert code == 0, checks
    workflow = checks["workflow.required-fields"]["evidence"]
    assert "4 of 5 workflow fields received a value; `loyaltyTier` (never fed" in workflow
    delivery = checks["delivery.one-run-per-event"]["evidence"]
    assert "4 of 5 workflow fields received a value; `loyaltyTier` never did" in delivery
    assert "every field extracted" not in delivery


def test_a_required_field_never_fed_fails_the_workflow_check(tmp_path: Path) -> None:
    """Required and unfeedable: workflow.required-fields fails and says so."""
    code, err, checks = certify(activation(tmp_path, tier_required=True))
    assert "required field 'loyaltyTier'" in err
    assert code == 1
    check = checks["workflow.required-fields"]
    assert check["passed"] is False
    assert "'loyaltyTier' ($.loyaltyTier): no mapping feeds it" in check["evidence"]


def test_a_required_identity_field_says_which_profiles_lack_it_and_both_fixes(
    tmp_path: Path,
) -> None:
    """``email`` required while ECID alone also renders: the fix is named, both ways."""
    path = activation(tmp_path, tier_required=False, email_required=True)
    code, _, checks = certify(path)
    assert code == 1
    check = checks["workflow.required-fields"]
    assert check["passed"] is False
    assert "profiles with only ECID (no Email)" in check["details"]
    assert '"$.identityMap.*[0].id"' in check["details"]
    assert "make 'email' optional (required = false)" in check["details"]
