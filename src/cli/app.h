#pragma once

namespace hivemind::cli {

// Parses the command line, runs the chosen command and returns the process
// exit code: 0 on success, 1 on failure, 2 on a usage error.
int run(int argc, char** argv);

}  // namespace hivemind::cli
