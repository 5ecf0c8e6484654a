// How many file descriptors this process has open (/proc/self/fd), for leak checks.
#pragma once

#include <dirent.h>

namespace go_test {

inline int open_fds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d)) ++n;
    closedir(d);
  }
  return n;
}

}  // namespace go_test
