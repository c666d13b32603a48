"""la_tracker: the LA's routing engine, follow-up queue and NCCIS return."""
