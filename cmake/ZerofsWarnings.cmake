# Compiler warnings applied to every target of the project (not to outside code that
# links the installed library). ZEROFS_WERROR turns them into errors, as CI does.
add_library(zerofs_warnings INTERFACE)
target_compile_options(zerofs_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough -Wmisleading-indentation
  -Wduplicated-cond -Wduplicated-branches -Wlogical-op -Wuseless-cast)
if(ZEROFS_WERROR)
  target_compile_options(zerofs_warnings INTERFACE -Werror)
endif()
