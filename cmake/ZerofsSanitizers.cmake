# ZEROFS_SANITIZE=address -> AddressSanitizer + UndefinedBehaviorSanitizer
# ZEROFS_SANITIZE=thread  -> ThreadSanitizer
# Applied globally so that every object file, tests included, is instrumented alike.
if(ZEROFS_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(ZEROFS_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(ZEROFS_SANITIZE AND NOT ZEROFS_SANITIZE STREQUAL "OFF")
  message(FATAL_ERROR "ZEROFS_SANITIZE must be 'address', 'thread' or empty, not '${ZEROFS_SANITIZE}'")
endif()
