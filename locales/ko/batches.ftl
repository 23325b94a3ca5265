# Dataset batches (admin): the list, a batch's page and progress, the new batch form.

batches-title = 데이터셋 배치
batches-intro-html = 배치는 프롬프트 앱 하나나 채팅 프롬프트를 많은 입력에 대해 백그라운드에서 실행합니다. 답변은 <em>대기</em> 상태로 검토 대기열에 들어갑니다.
batches-new = 새 배치
batches-none = 아직 배치가 없습니다.
batches-col-batch = 배치
batches-col-runs = 실행 대상
batches-col-state = 상태
batches-col-progress = 진행
batches-col-started = 시작 (UTC)
batches-done = 완료
batches-failed = 실패
batches-finished-of = { $total }개 중 { $finished }개 끝남

# A batch's or an item's state, by its stored name.
batch-state = { $state ->
    [generating] 입력 만드는 중
    [running] 실행 중
    [paused] 멈춤
    [cancelled] 취소됨
    [done] 완료
    [pending] 대기
    [failed] 실패
   *[other] { $state }
}

batch-runs = 실행 대상
batch-started = { $at } UTC 시작
batch-refresh = 새로 고침
batch-eta-seconds = 약 { $s }초 남음
batch-eta-minutes = 약 { $min }분 남음
batch-eta-hours = 약 { $h }시간 { $min }분 남음
batch-resumes-at = { $at } UTC에 저절로 다시 시작합니다.
batch-proposed = 입력 { $wanted }개 중 { $total }개를 제안받았습니다.
batch-proposed-dropped = 입력 { $wanted }개 중 { $total }개를 제안받았습니다. 거의 같은 입력 { $duplicates }개와 스키마에 맞지 않는 입력 { $invalid }개는 뺐습니다.
batch-running = 실행 중
batch-pending = 대기
batch-pause = 멈추기
batch-resume = 다시 시작
batch-cancel = 취소
batch-items = 항목
batch-no-inputs = 아직 입력이 없습니다.
batch-col-input = 입력
batch-col-answer = 답변
batch-open-run = 실행 결과 열기

batch-new-title = 새 데이터셋 배치
batch-new-crumb = 새로 만들기
batch-row = { $row }행:
batch-name-placeholder = 한국 여행 질문, 1차
batch-chat-prompt = 채팅 프롬프트 (입력마다 메시지 하나)
batch-concurrency = 동시 실행
batch-concurrency-hint = 한 번에 실행할 항목 수, 1~8.
batch-inputs = 입력
batch-upload-file = 파일 올리기
batch-generate = 모델에게 입력 제안받기
batch-upload = 올리기
batch-file = CSV 또는 JSONL 파일
batch-upload-hint = UTF-8, 최대 { $size }, { $rows }행까지.
batch-upload-hint-more-html = CSV의 첫 행은 필드 이름입니다(앱의 입력 필드, 채팅 프롬프트라면 <code>message</code>). JSONL 파일은 한 줄에 JSON 객체 하나입니다. 모든 행을 앱의 입력 스키마로 검사하며, 하나라도 틀리면 아무것도 가져오지 않고 잘못된 행을 모두 보여 줍니다.
batch-about = 어떤 입력인지
batch-about-placeholder = 서울에 처음 온 방문객이 묻는 질문
batch-examples = 입력 예시 몇 개, 한 줄에 JSON 객체 하나
batch-examples-placeholder = {"{"}"message": "서울에서 부산까지 KTX로 얼마나 걸려요?"{"}"}
batch-count = 입력 개수
batch-generate-hint = 모델에게 여러 번에 걸쳐 묻습니다. 스키마에 맞지 않거나 예시 또는 서로 거의 같은 제안(글자 바이그램으로 비교하므로 한국어도 됩니다)은 뺍니다.
batch-start = 배치 시작
