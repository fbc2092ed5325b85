#include "util/thread_name.h"

#include <pthread.h>
#include <string>

namespace rep::util {

void name_this_thread(std::string_view name) {
    constexpr size_t kMax = 15;  // the kernel's limit, without the terminating NUL
    std::string cut(name.substr(0, kMax));
    // Only a diagnostic: a failure changes nothing else.
    (void)pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace rep::util
