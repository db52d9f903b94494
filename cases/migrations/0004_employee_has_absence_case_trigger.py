# The database keeps employees_employee.has_absence_case true exactly while a case exists for
# the employee, however the case is written (ORM, bulk insert, SQL). Existing rows are filled in.
from django.db import migrations

SQL = """
CREATE FUNCTION cases_keep_has_absence_case() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        -- Always update (and so lock) the employee row: a case inserted while another of the
        -- same employee is deleted must not leave the flag false after both commit.
        UPDATE employees_employee SET has_absence_case = true WHERE id = NEW.employee_id;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        IF TG_OP = 'DELETE' OR OLD.employee_id <> NEW.employee_id THEN
            -- The employee's own trigger recomputes the fact on this update.
            UPDATE employees_employee SET has_absence_case = false WHERE id = OLD.employee_id;
        END IF;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- The application never decides the fact: a save of an employee loaded before a case was
-- reported (and so holding a stale value) must not undo it.
CREATE FUNCTION cases_employee_has_absence_case() RETURNS trigger AS $$
BEGIN
    NEW.has_absence_case := EXISTS (
        SELECT 1 FROM cases_absencecase c WHERE c.employee_id = NEW.id
    );
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER employees_employee_has_absence_case
BEFORE INSERT OR UPDATE ON employees_employee
FOR EACH ROW EXECUTE FUNCTION cases_employee_has_absence_case();

CREATE TRIGGER cases_absencecase_has_absence_case
AFTER INSERT OR DELETE OR UPDATE OF employee_id ON cases_absencecase
FOR EACH ROW EXECUTE FUNCTION cases_keep_has_absence_case();

CREATE FUNCTION cases_truncate_has_absence_case() RETURNS trigger AS $$
BEGIN
    UPDATE employees_employee SET has_absence_case = false WHERE has_absence_case;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER cases_absencecase_truncated
AFTER TRUNCATE ON cases_absencecase
FOR EACH STATEMENT EXECUTE FUNCTION cases_truncate_has_absence_case();

UPDATE employees_employee e SET has_absence_case = true
 WHERE EXISTS (SELECT 1 FROM cases_absencecase c WHERE c.employee_id = e.id);
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS cases_absencecase_truncated ON cases_absencecase;
DROP FUNCTION IF EXISTS cases_truncate_has_absence_case();
DROP TRIGGER IF EXISTS cases_absencecase_has_absence_case ON cases_absencecase;
DROP FUNCTION IF EXISTS cases_keep_has_absence_case();
DROP TRIGGER IF EXISTS employees_employee_has_absence_case ON employees_employee;
DROP FUNCTION IF EXISTS cases_employee_has_absence_case();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_backfill_periods_and_timeline"),
        ("employees", "0003_employee_has_absence_case"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
