-- The school's pages list its leavers by leaving year, newest first.
create index leavers_school_leaving on leavers (school_laestab, leaving_date desc);
