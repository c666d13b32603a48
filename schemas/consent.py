"""The one consent rule for an LA-to-NCS referral, applied by la_tracker's routing and staff actions and
by ncs_referral's intake alike. Standard library only.

No published legal basis covers an LA-to-NCS referral of an 18+ young person (docs/domain-rules.md section 4), so
a referral needs recorded consent to share with the NCS and no objection to sharing; an LA's policy
cannot switch this off.
"""
from __future__ import annotations


def referral_consent_blocker(share_with_ncs: bool, objects_to_sharing: bool) -> str | None:
    """Why consent does not allow the referral (`objects_to_sharing`, `no_consent`), or None."""
    if objects_to_sharing:
        return "objects_to_sharing"
    if not share_with_ncs:
        return "no_consent"
    return None
