# The review queue: the list with its filters, and one answer under review.

review-title = 검토
review-one-at-a-time = 하나씩 검토하기
review-policy-off-html = data_policy가 꺼져 있어 데이터셋 배치만 검토합니다. 방문자의 답변을 검토하려면 사이트 파일에서 <code>data_policy</code>를 설정하세요.
review-policy-off-short = data_policy가 꺼져 있어 데이터셋 배치만 검토합니다.
review-queue-done = 이 조건으로 검토할 답변이 더 없습니다.
review-filters = 필터
review-any = 전체
review-chat = 채팅
review-prompt-version = 프롬프트 버전
review-hash-prefix = 해시 앞부분
review-from = 시작
review-to = 끝
review-correction = 수정안
review-has-one = 있음
review-has-none = 없음
review-filter = 적용
review-clear = 초기화
review-no-match = 조건에 맞는 답변이 없습니다.
review-col-answer = 답변
review-col-app = 앱
review-col-model = 모델
review-col-written = 작성 (UTC)
review-col-rating = 평가
review-col-state = 상태
review-col-held-by = 맡은 사람
review-corrected = 수정됨
review-held-until = { $who }, { $until }까지
review-pages = 페이지
review-previous-page = 이전 페이지
review-next-page = 다음 페이지
review-page = { $page }쪽
review-list-keys-html = 단축키: <kbd>n</kbd> 하나씩 검토 · <kbd>j</kbd>/<kbd>k</kbd> 다음/이전 답변, <kbd>Enter</kbd> 열기. 답변에서는 <kbd>a</kbd> 승인, <kbd>e</kbd> 편집, <kbd>r</kbd> 거절, <kbd>s</kbd> 건너뛰기. JavaScript가 꺼져 있으면 브라우저의 접근 키(예: <kbd>Alt</kbd>+<kbd>Shift</kbd>+키)로 같은 버튼을 누를 수 있습니다.

# A rating, by its name in the filter (up, down, none).
review-rating = { $rating ->
    [up] 좋아요
    [down] 별로예요
   *[none] 평가 없음
}
# A review state, by its stored name (domain::ReviewState).
review-state = { $state ->
    [pending] 대기
    [accepted] 승인됨
    [edited] 편집됨
    [rejected] 거절됨
   *[other] { $state }
}

review-item-title = 검토: { $title }
review-back = ← 목록으로
review-meta-app = 앱
review-meta-version = 버전
review-from-batch = 데이터셋 배치
review-from-guest = 게스트의 대화
review-from-user = 사용자의 대화
review-last-by = 마지막 검토: { $who }
review-held-by-you = { $until } UTC까지 내가 이 답변을 맡고 있습니다.
review-held-by-other = 님이 { $until } UTC까지 이 답변을 검토하고 있어, 그때까지는 내 결정이 거절됩니다.
review-held-by-none = 아무도 이 답변을 맡고 있지 않습니다. 결정하면 내가 맡게 됩니다.
review-thread-label = 답변까지의 대화
review-answer-label = 검토할 답변
review-edit-label = 검토자의 편집
review-owner-feedback-label = 주인의 피드백
review-owner-feedback = 주인의 피드백
review-none = 없음.
review-tags = 태그:
review-comment = 의견:
review-correction-label = 수정안:
review-decide = 결정
review-accept = 승인
review-skip = 건너뛰기
review-reject = 거절…
review-edit = 답변 편집
review-edit-saves = (Ctrl+Enter로 저장)
review-save-edit = 편집 저장
review-item-keys-html = 단축키: <kbd>a</kbd> 승인 · <kbd>e</kbd> 편집(<kbd>Ctrl</kbd>+<kbd>Enter</kbd> 저장, <kbd>Esc</kbd> 입력란 나가기) · <kbd>r</kbd> 거절 후 <kbd>1</kbd>–<kbd>7</kbd>로 이유 선택 · <kbd>s</kbd> 건너뛰기. JavaScript가 꺼져 있으면 브라우저의 접근 키(예: <kbd>Alt</kbd>+<kbd>Shift</kbd>+키)로 같은 버튼을 누를 수 있습니다.
review-siblings-label = 같은 질문의 다른 답변
review-siblings = 이 질문의 다른 답변
review-answer-n = 답변 { $id }
review-preferred = (주인이 고른 답변)
review-audit = 감사 기록
review-no-decisions = 아직 결정이 없습니다.
review-col-when = 언제 (UTC)
review-col-who = 누가
review-col-change = 변경
review-col-reason = 이유
review-col-text = 글 변경 전 → 후
review-deleted-account = 삭제된 계정
review-show = 보기
