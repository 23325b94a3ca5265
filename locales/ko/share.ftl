# 공유 링크(/s/{token}), "공유한 링크" 페이지, 첫 화면의 쇼케이스.

share-button = 공유
share-link-ready = 이 링크를 가진 사람은 누구나 지금 이 대화의 스냅숏을 볼 수 있습니다:
share-copy = 링크 복사

share-page-note = 공유된 스냅숏
share-run-input = 앱에 입력한 내용
share-run-app = 실행한 앱:
share-empty = 이 스냅숏에는 아직 완성된 답변이 없습니다.
share-continue = 내 대화로 이어가기
share-continue-help = 이 메시지들을 내 새 대화로 복사합니다. 직접 입력하기 전에는 모델에 아무것도 보내지 않습니다.
share-pin = 쇼케이스에 고정
share-unpin = 쇼케이스에서 내리기

share-list-title = 공유한 링크
share-list-intro = 링크는 공유한 시점의 스냅숏을 보여 줍니다. 그 뒤에 쓴 메시지는 업데이트하기 전까지 공개되지 않습니다. 링크를 취소하면 바로 열리지 않습니다.
share-list-none = 아직 공유한 항목이 없습니다. 대화의 관리 메뉴나 앱 결과 아래의 "공유"를 눌러 보세요.
share-list-column-title = 제목
share-list-column-link = 링크
share-list-column-created = 공유한 때
share-list-column-updated = 업데이트한 때
share-list-update = 업데이트
share-list-revoke = 공유 취소
share-list-times-utc = 시간은 UTC 기준입니다.

share-showcase-title = 이렇게 쓰입니다
