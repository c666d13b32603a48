-- Policy changes record the role the token stated (la_manager, admin), not the scoping role la_staff.
alter table policy_changes add column changed_by_role text;
