// Version numbers of the tool and of the plugin ABI a backend is compiled against.
#pragma once

#define ATTNBENCH_VERSION_STRING "0.1.0"
// Bump whenever a class or struct in include/attnbench/ changes layout or a
// virtual function is added, removed or reordered: plugins built against an
// older value are refused at load time.
#define ATTNBENCH_ABI_VERSION 5
