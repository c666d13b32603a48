"""ncs_referral: the National Careers Service advisers' handoff queue."""
