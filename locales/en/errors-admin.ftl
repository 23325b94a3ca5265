# Errors of the admin's and reviewers' pages: users, the review queue, exports and
# dataset batches.

error-disable-self = You cannot disable your own account: ask another admin to do it.
error-paused-value = `paused` must be 1 (pause model calls) or 0 (resume them).
error-signup-mode = Choose a sign-up mode: open, invite or closed.
error-budget-value = The daily token budget { $budget } is not a whole number of 0 or more: enter one, or leave it empty for the default.

# The review queue.
error-reject-no-reason = A rejection needs a reason: pick one of the tags.
error-reject-reason = `{ $reason }` is not a reason: use one of { $reasons }.
error-review-held = { $by } is reviewing this answer until { $until } UTC: take another one from the queue, or come back after then.
error-edit-empty = The edit is empty: write the answer as it should be, or accept or reject it.
error-edit-control = The edit contains control characters (such as NUL or ESC): remove them.
error-edit-long = The edit is { $chars } characters long, { $over } over the limit of { $max }: shorten it.
# A filter of the queue with a value it cannot have; `want` says what it takes.
error-filter = The filter `{ $name }={ $value }` is not { $want }.
filter-want-version = the start of a prompt version (hex digits)
filter-want-rating = up, down or none
filter-want-state = pending, accepted, edited or rejected
filter-want-date = a date like 2026-12-04
filter-want-yes-no = yes or no
error-filter-page = The page `{ $page }` is not a number from 1.

# Exports for fine-tuning (the admin page and `promptship export`).
export-unknown-format = Unknown format { $format }: choose one of { $formats }.
export-status-pairs = The status chooses answers for the SFT formats; { $format } pairs every edited, corrected, preferred or rated answer with its original or sibling: leave the status empty.
export-unknown-status = Unknown status { $status }: the status is a comma list of { $statuses }.
export-bad-date = The date { $date } is not a day written YYYY-MM-DD, such as 2026-12-01.
export-bad-split = The split { $split } is not between 0 and 1: give the share of examples to train on, such as 0.9.
export-policy-off = data_policy is off in promptship.toml: nothing is exported; set it to "accounts" or "all"
export-nothing = No answers match this export (format { $format }, status { $status }, app { $app }, since { $since }){ $skipped ->
    [0] {""}
   *[other] ; { $skipped } failed the checks
}: nothing was written. Review some answers, or widen the status, app or date.
# A filter left empty, in that sentence.
export-any = any
export-any-day = any day
export-out-exists = { $path } already exists: choose another --out folder, or move it away.

# Dataset batches: the new batch form and its upload.
batch-target-app = the app `{ $app }`
batch-target-chat = the chat prompt
batch-not-multipart = Send the new batch form as multipart/form-data, as the page's form does ({ $detail }).
batch-field-not-utf8 = The field `{ $field }` is not UTF-8 text: send it as UTF-8.
batch-name = Name the batch: 1 to { $max } characters.
batch-bad-concurrency = Concurrency must be a whole number from 1 to { $max }.
batch-no-app = There is no app `{ $app }`: pick one from the list.
batch-no-source = Choose where the inputs come from.
batch-no-file = Choose a CSV or JSONL file of inputs to upload.
batch-file-too-large = The file is larger than { $size }, the most a batch accepts (BATCH_MAX_UPLOAD_BYTES): split it into smaller batches.
batch-file-format = The file { $file } is neither .csv nor .jsonl: name it after its format.
batch-no-description = Describe the inputs the model should write.
batch-bad-count = The number of inputs must be from 1 to { $max }.
batch-no-examples = Give at least one example input, as a JSON object on a line of its own.
batch-bad-examples = Some example lines fail the schema: fix them.
batch-not-saved = The batch could not be saved: try again.
upload-not-utf8 = The file is not UTF-8 text (the first bad byte is on line { $line }): save it as UTF-8 (in Excel, "CSV UTF-8") and upload it again.
upload-too-many-rows = The file has more than { $max } rows, the most one batch takes (BATCH_MAX_ROWS): split it.
upload-empty = The file has no inputs: add at least one row.
upload-rows = { $count } { $count ->
    [one] row fails
   *[other] rows fail
} the schema, so nothing was imported: fix { $count ->
    [one] it
   *[other] them
} and upload the file again.
upload-header-unreadable = The header row cannot be read: { $detail }.
upload-header-columns = The header row names { $unknown } that { $target } does not take: the columns must be among { $fields }.
upload-no-column = no column
# A bad row's problems, after "Row 3:".
upload-row-csv = cannot be read as CSV: { $detail }
upload-row-cells = has { $cells } cells where the header has { $columns }
upload-row-json = is not JSON: { $detail }
cell-not-integer = must be a whole number, not { $cell }
cell-not-number = must be a number, not { $cell }
cell-not-boolean = must be true or false, not { $cell }
cell-not-json = must be written as JSON, not { $cell }
batch-chat-no-message = needs a `{ $field }` field holding the text to send
batch-chat-other-fields = has fields other than `{ $field }`, which the chat prompt does not take

# A batch that cannot go on, and why an item failed (`state`: a `batch-state`).
batch-cannot-pause = This batch is { $state }: only a running batch can be paused.
batch-cannot-resume = This batch is { $state }: only a paused batch can be resumed.
batch-cannot-cancel = This batch is { $state }: it has nothing left to cancel.
batch-paused-by-admin = Paused by an admin.
batch-proposing-stopped = Proposing inputs stopped: { $error } Resume to try again.
batch-proposals-unfinished = The model did not finish proposing inputs: try again later.
batch-creator-gone = The account that made this batch is gone.
batch-app-gone = The app `{ $app }` is no longer served.
batch-input-unfit = The input no longer fits the app `{ $app }`'s schema.
batch-answer-ended = The answer ended { $status }.
