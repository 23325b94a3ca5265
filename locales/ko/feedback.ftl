# Feedback under an answer: thumbs, reason tags, a comment and a better answer.

feedback-good = 좋은 답변
feedback-bad = 아쉬운 답변
feedback-yours = 내 피드백
feedback-more = 자세히 알려 주세요
feedback-why = 이유는?
feedback-comment = 의견
feedback-correction = 더 나은 답변 쓰기
feedback-correction-placeholder = 원했던 답변을 써 주세요
feedback-save = 피드백 저장
feedback-remove = 내 피드백 지우기
feedback-saved = 고맙습니다. 저장했습니다.
feedback-removed = 지웠습니다.

# A reason tag, by its stored name (domain::FeedbackTag); the review pages use it too.
feedback-tag = { $tag ->
    [accurate] 정확함
    [helpful] 도움이 됨
    [wrong_facts] 사실과 다름
    [needless_refusal] 답할 수 있는데 거절함
    [too_long] 너무 김
    [unsafe] 안전하지 않음
    [formatting] 형식 문제
   *[other] { $tag }
}
