# The database still decides employees_employee.has_absence_case (see 0004), but no longer with a
# PL/pgSQL call for every employee row written: an import of 100,000 employees spent over a
# second in that trigger (bench/imports.py), to find what is almost always "no case".
# - An UPDATE of an employee is checked only when it changes the fact: a save of an employee
#   loaded before a case was reported (a stale false) differs from the row's true and is
#   recomputed, exactly as before; an update that leaves the fact as it is cannot make it wrong.
# - An INSERT is checked once per statement, for the rows it inserted (a transition table): a
#   row whose fact disagrees with the cases (only possible when a case was written first, with
#   the foreign-key check deferred) is corrected, which the update trigger above recomputes.
from django.db import migrations

SQL = """
DROP TRIGGER employees_employee_has_absence_case ON employees_employee;

CREATE TRIGGER employees_employee_has_absence_case
BEFORE UPDATE ON employees_employee
FOR EACH ROW WHEN (NEW.has_absence_case IS DISTINCT FROM OLD.has_absence_case)
EXECUTE FUNCTION cases_employee_has_absence_case();

CREATE FUNCTION cases_inserted_employees_has_absence_case() RETURNS trigger AS $$
BEGIN
    UPDATE employees_employee e SET has_absence_case = NOT e.has_absence_case
     WHERE e.id IN (
        SELECT n.id FROM inserted n
         WHERE n.has_absence_case
               <> EXISTS (SELECT 1 FROM cases_absencecase c WHERE c.employee_id = n.id)
     );
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER employees_employee_inserted_has_absence_case
AFTER INSERT ON employees_employee
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION cases_inserted_employees_has_absence_case();
"""

REVERSE_SQL = """
DROP TRIGGER employees_employee_inserted_has_absence_case ON employees_employee;
DROP FUNCTION cases_inserted_employees_has_absence_case();
DROP TRIGGER employees_employee_has_absence_case ON employees_employee;
CREATE TRIGGER employees_employee_has_absence_case
BEFORE INSERT OR UPDATE ON employees_employee
FOR EACH ROW EXECUTE FUNCTION cases_employee_has_absence_case();
"""


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_absenceperiod_days_index")]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
