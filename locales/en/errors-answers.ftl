# Why an answer or a picture ended without being complete, under it on the chat and run
# pages and in the API. Saved by id with the answer, so each reader sees it in theirs.

answer-stopped = Stopped.
answer-reader-left = The page was closed before the answer was finished.
answer-restarted = The server restarted while this answer was being written.
picture-restarted = The server restarted while this picture was being made.
answer-invalid-output = The model's answer did not follow this app's output format ({ $problem }), so it is not shown as a result. Run the app again.

# The model server failed: what happened and what to do, never the provider's words.
upstream-rate-limited = The model is busy right now (rate limited). Please try again in a minute.
upstream-unavailable = The service is unavailable right now. The operator has been told.
upstream-rejected = The model could not answer this request.
upstream-server-error = The model server had an error. Please try again.
upstream-timeout = The model stopped responding. Please try again.
upstream-unreachable = The model server cannot be reached right now. Please try again later.
upstream-broken = The connection to the model broke off mid-answer.
upstream-malformed = The model sent something that could not be read, so the answer ended.
upstream-in-band = The model server reported an error, so the answer ended.
upstream-not-an-image = The model sent back something that is not a picture, so nothing is shown.
upstream-image-too-large = The model sent back a picture larger than this site accepts (8 MiB).
upstream-image-timeout = Making the picture took too long. Please try again.
