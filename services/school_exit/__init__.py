"""school_exit: where schools' MIS integrations report leavers and see what happened next."""
