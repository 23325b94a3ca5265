# The prompt apps: the gallery, an app's page and a run's result.

apps-title = 앱
apps-empty-html = 아직 앱이 없습니다. <code>promptship apps new my-app</code>을 실행하고 <code>apps/my-app.prompt</code>를 고쳐 보세요.
# The badge on a gallery card: the app's output format.
apps-format = { $format ->
    [text] 텍스트
    [json] JSON
    [image] 이미지
   *[other] { $format }
}

app-api-only = 이 앱은 API로만 실행됩니다:
app-api-only-see-html = <a href="/api/docs">API 문서</a>를 참고하세요.
app-run = 실행
app-sample = 예시로 채우기

result-drawing = 그리는 중…
result-picture-alt = 이 실행이 그린 그림
result-download = 내려받기
result-copy-json = JSON 복사
result-copied = 복사했습니다
result-continue = 채팅으로 이어 가기
