"""``importPeople``: bulk onboarding with inline rows or an uploaded CSV file
(``events.onboarding``).

The rows are judged by the hire rules as ``ladder import-people`` judges a file's; a bad
row comes back as an ``ImportRowError`` naming its row (1 for the first inline row; for a
file, its line, the header being line 1) and field. A file is sent as a GraphQL multipart
request (``api.http``) and read with the CLI's own reader, so the same file imported
through either makes the same idempotency key.
"""

from __future__ import annotations

from datetime import date

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from api.context import Info
from api.errors import INTERNAL, ApiError, user_errors
from api.types.mutations.common import career_service, mutation
from domain.onboarding import COLUMNS, Row, RowError, read_rows
from events.onboarding import import_rows
from events.port import Metadata

MAX_ROWS = 10_000
_FIELD_OF = {
    column: "".join(p.title() if i else p for i, p in enumerate(column.split("_")))
    for column in COLUMNS
}


@strawberry.input(description="One person to hire (the columns of `ladder import-people`).")
class ImportPersonRow:
    name: str
    email: str
    track: str
    level: str
    hired_on: date
    prior_years: float = 0.0
    manager_email: str | None = strawberry.field(
        default=None, description="A person in these rows, or already hired."
    )
    experience_exception: str | None = None
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="A UUID; by default one derived from the email."
    )

    def row(self, number: int) -> Row:
        values = {
            "name": self.name,
            "email": self.email,
            "track": self.track,
            "level": self.level,
            "hired_on": self.hired_on.isoformat(),
            "prior_years": repr(self.prior_years),
            "manager_email": self.manager_email or "",
            "experience_exception": self.experience_exception or "",
            "person_id": str(self.person_id or ""),
        }
        return Row(number, {k: v.strip() for k, v in values.items()})


@strawberry.input(
    description="Hire everyone in `rows` (or in the CSV `file`), all or nothing, managers first."
)
class ImportPeopleInput:
    rows: list[ImportPersonRow] = strawberry.field(
        default_factory=list, description=f"At most {MAX_ROWS:,} rows."
    )
    dry_run: bool = strawberry.field(
        default=False, description="Judge every row and write nothing."
    )
    file: Upload | None = strawberry.field(
        default=None,
        description="Instead of `rows`: a CSV file with the columns of `ladder import-people` "
        "(UTF-8, a header line), sent as a GraphQL multipart request with a "
        "`GraphQL-Require-Preflight` header; errors name its lines (the header is line 1).",
    )


@strawberry.type(description="A row the rules refused (or, without `row`, the whole import).")
class ImportRowError:
    row: int | None = strawberry.field(description="The row's number in `rows`, from 1.")
    field: str | None = strawberry.field(description="The row's field at fault (camelCase).")
    code: str
    message: str

    @classmethod
    def from_row_error(cls, error: RowError) -> ImportRowError:
        return cls(
            row=error.line,
            field=_FIELD_OF.get(error.column, error.column or None),
            code=error.code,
            message=error.message,
        )


@strawberry.type(description="What an import did; nothing was written when `errors` is not empty.")
class ImportPeoplePayload:
    rows: int
    hired: int = strawberry.field(description="People hired by this call (0 for a dry run).")
    replayed: bool = strawberry.field(
        description="These rows were imported before: nothing was written."
    )
    position: int | None = strawberry.field(description="The log position the import reached.")
    errors: list[ImportRowError]


@strawberry.type
class OnboardingMutation:
    @mutation(
        description="Hire many people at once through the hire rules (HR only): every bad "
        "row is reported, and nothing is written unless all are good. The same rows again "
        "write nothing (`replayed`)."
    )
    async def import_people(
        self, info: Info, input: ImportPeopleInput
    ) -> ImportPeoplePayload | None:
        context = info.context
        outcome = INTERNAL
        try:
            try:
                principal = context.require_writer()
            except ApiError as exc:
                outcome = exc.code
                raise
            rows, refused = await _rows_of(input)
            if refused:
                outcome = refused[0].code
                return ImportPeoplePayload(
                    rows=len(rows), hired=0, replayed=False, position=None, errors=refused
                )
            metadata = Metadata(actor_id=principal.subject, correlation_id=context.request_id)
            try:
                report = await import_rows(
                    career_service(context), rows, metadata=metadata, dry_run=input.dry_run
                )
            except Exception as exc:
                errors = [
                    ImportRowError(row=None, field=e.field, code=e.code, message=e.message)
                    for e in user_errors(exc)
                ]
                outcome = errors[0].code
                return ImportPeoplePayload(
                    rows=len(rows), hired=0, replayed=False, position=None, errors=errors
                )
            outcome = report.errors[0].code if report.errors else "ok"
            return ImportPeoplePayload(
                rows=report.rows,
                hired=report.hired,
                replayed=report.replayed,
                position=report.position,
                errors=[ImportRowError.from_row_error(e) for e in report.errors],
            )
        finally:
            context.observe_mutation(info.field_name, outcome)


def _refused(field: str, message: str, row: int | None = None) -> list[ImportRowError]:
    return [ImportRowError(row=row, field=field, code="VALIDATION_ERROR", message=message)]


async def _rows_of(input: ImportPeopleInput) -> tuple[list[Row], list[ImportRowError]]:
    """The rows to judge (inline, or read from the file), or why the request is refused."""
    if input.file is None:
        rows = [r.row(i) for i, r in enumerate(input.rows, start=1)]
    elif input.rows:
        return [], _refused("file", "send `rows` or `file`, not both")
    else:
        upload: object = input.file
        # Starlette hands the part over as an ``UploadFile``; Strawberry types it as bytes.
        # Any other value came inline in the JSON variables, not as a file.
        if not isinstance(upload, UploadFile):
            return [], _refused("file", "send the file as a GraphQL multipart request")
        try:
            text = (await upload.read()).decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], _refused("file", "the file is not UTF-8 text")
        rows, problems = read_rows(text)
        if problems:
            return [], [ImportRowError.from_row_error(p) for p in problems]
    if len(rows) > MAX_ROWS:
        return rows, _refused(
            "file" if input.file else "rows", f"at most {MAX_ROWS} rows per import"
        )
    return rows, []
