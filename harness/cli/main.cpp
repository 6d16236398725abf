// Entry point of the attnbench binary.
#include "harness/cli/cli.hpp"

int main(int argc, char** argv) { return attnbench::run_cli(argc, argv); }
