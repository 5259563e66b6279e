// Session's SFTP transfers: upload, download and secret files.

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <array>
#include <fstream>
#include <memory>
#include <random>

#include "common/log.h"
#include "common/strings.h"
#include "remote/scripts.h"
#include "remote/session.h"

namespace hivemind::remote {
namespace {

constexpr std::size_t kChunkBytes = 32 * 1024;

struct FileDeleter {
  void operator()(sftp_file file) const { sftp_close(file); }
};
using FileHandle = std::unique_ptr<sftp_file_struct, FileDeleter>;

struct AttributesDeleter {
  void operator()(sftp_attributes attributes) const { sftp_attributes_free(attributes); }
};
using AttributesHandle = std::unique_ptr<sftp_attributes_struct, AttributesDeleter>;

std::string parent_folder(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return {};
  return path.substr(0, slash);
}

// A name beside `path`, so that the final rename stays on one file system.
std::string temporary_name_for(const std::string& path) {
  std::random_device device;
  std::uniform_int_distribution<unsigned> digit(0, 15);
  std::string suffix;
  for (int i = 0; i < 12; ++i) suffix += "0123456789abcdef"[digit(device)];
  return path + ".hivemind-upload-" + suffix;
}

std::string describe_sftp_code(int code) {
  switch (code) {
    case SSH_FX_NO_SUCH_FILE:
      return "no such file or folder";
    case SSH_FX_PERMISSION_DENIED:
      return "permission denied";
    case SSH_FX_FILE_ALREADY_EXISTS:
      return "the file already exists";
    default:
      return "SFTP status " + std::to_string(code);
  }
}

Status write_all(sftp_file file, const char* data, std::size_t size) {
  std::size_t written = 0;
  while (written < size) {
    ssize_t n = sftp_write(file, data + written, size - written);
    if (n <= 0) return fail(make_error("remote.sftp_failed", "write"));
    written += static_cast<std::size_t>(n);
  }
  return ok_unit();
}

}  // namespace

Error Session::sftp_error(std::string_view operation, const std::string& path) const {
  std::string cause = sftp_ != nullptr ? describe_sftp_code(sftp_get_error(sftp_)) : ssh_get_error(session_);
  return make_error("remote.sftp_failed",
                    "SFTP " + std::string(operation) + " of " + path + " on " + target_ + " failed: " + cause + ".",
                    "Check that the remote user may write there and that the disk is not full.");
}

Status Session::open_sftp() {
  if (sftp_ != nullptr) return ok_unit();
  sftp_session sftp = sftp_new(session_);
  if (sftp == nullptr || sftp_init(sftp) != SSH_OK) {
    if (sftp != nullptr) sftp_free(sftp);
    return fail(make_error("remote.sftp_failed",
                           "Could not start SFTP on " + target_ + ": " + ssh_get_error(session_) + ".",
                           "Check that the host's sshd_config has an sftp Subsystem line."));
  }
  sftp_ = sftp;
  return ok_unit();
}

Status Session::make_remote_folders(const std::string& folder) {
  std::string prefix;
  for (const std::string& part : split(folder, '/')) {
    if (part.empty()) continue;
    prefix += "/" + part;
    AttributesHandle existing(sftp_stat(sftp_, prefix.c_str()));
    if (existing) {
      if (existing->type != SSH_FILEXFER_TYPE_DIRECTORY) {
        return fail(make_error("remote.sftp_failed", prefix + " on " + target_ + " exists but is not a folder.",
                               "Move that file away, or choose another remote path."));
      }
      continue;
    }
    // Another client may create the folder between the stat and the mkdir.
    if (sftp_mkdir(sftp_, prefix.c_str(), 0755) != SSH_OK && !AttributesHandle(sftp_stat(sftp_, prefix.c_str()))) {
      return fail(sftp_error("mkdir", prefix));
    }
  }
  return ok_unit();
}

Status Session::finish_upload(const std::string& temporary_path, const std::string& remote_path, int mode,
                              std::uint64_t expected_size) {
  if (sftp_chmod(sftp_, temporary_path.c_str(), static_cast<mode_t>(mode)) != SSH_OK) {
    Error error = sftp_error("chmod", temporary_path);
    sftp_unlink(sftp_, temporary_path.c_str());
    return fail(std::move(error));
  }

  // OpenSSH's sftp-server implements the SFTP version 3 rename with link(2),
  // which fails when the target exists, so mv(1) makes the atomic replacement.
  auto moved = run("mv -f -- " + shell_quote(temporary_path) + " " + shell_quote(remote_path));
  if (!moved) {
    sftp_unlink(sftp_, temporary_path.c_str());
    return fail(moved.error());
  }

  AttributesHandle attributes(sftp_stat(sftp_, remote_path.c_str()));
  if (!attributes) return fail(sftp_error("stat", remote_path));
  if (attributes->size != expected_size) {
    return fail(make_error("remote.size_mismatch",
                           remote_path + " on " + target_ + " has " + std::to_string(attributes->size) +
                               " bytes after the upload, expected " + std::to_string(expected_size) + ".",
                           "Check the free space on the host and upload again."));
  }
  return ok_unit();
}

Status Session::upload(const std::filesystem::path& local_path, const std::string& remote_path, int mode,
                       const ProgressCallback& progress) {
  auto started = std::chrono::steady_clock::now();
  std::ifstream input(local_path, std::ios::binary);
  std::error_code size_error;
  std::uint64_t total = std::filesystem::file_size(local_path, size_error);
  if (!input || size_error) {
    return fail(make_error("remote.upload_failed", "Could not read the local file " + local_path.string() + ".",
                           "Check that it exists and is readable."));
  }

  if (Status opened = open_sftp(); !opened) return opened;
  if (Status folders = make_remote_folders(parent_folder(remote_path)); !folders) return folders;

  std::string temporary = temporary_name_for(remote_path);
  FileHandle file(sftp_open(sftp_, temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600));
  if (!file) return fail(sftp_error("open", temporary));

  std::array<char, kChunkBytes> chunk;
  std::uint64_t done = 0;
  while (input) {
    input.read(chunk.data(), chunk.size());
    std::size_t count = static_cast<std::size_t>(input.gcount());
    if (count == 0) break;
    if (!write_all(file.get(), chunk.data(), count)) {
      Error error = sftp_error("write", temporary);
      file.reset();
      sftp_unlink(sftp_, temporary.c_str());
      return fail(std::move(error));
    }
    done += count;
    if (progress) progress(done, total);
  }
  file.reset();

  if (Status finished = finish_upload(temporary, remote_path, mode, done); !finished) return finished;
  if (done != total) {
    return fail(make_error("remote.upload_failed",
                           "The local file " + local_path.string() + " changed size during the upload.",
                           "Upload it again once nothing writes to it."));
  }

  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  log::get("deployer")
      ->info("uploaded {} to {}:{} ({} bytes, mode {:04o}) in {} ms", local_path.string(), target_, remote_path, total,
             mode, elapsed.count());
  return ok_unit();
}

Status Session::download(const std::string& remote_path, const std::filesystem::path& local_path,
                         const ProgressCallback& progress) {
  if (Status opened = open_sftp(); !opened) return opened;

  FileHandle file(sftp_open(sftp_, remote_path.c_str(), O_RDONLY, 0));
  if (!file) return fail(sftp_error("open", remote_path));
  AttributesHandle attributes(sftp_fstat(file.get()));
  std::uint64_t total = attributes ? attributes->size : 0;

  std::ofstream output(local_path, std::ios::binary | std::ios::trunc);
  if (!output) {
    return fail(make_error("remote.download_failed", "Could not create the local file " + local_path.string() + ".",
                           "Check that its folder exists and is writable."));
  }

  std::array<char, kChunkBytes> chunk;
  std::uint64_t done = 0;
  while (true) {
    ssize_t n = sftp_read(file.get(), chunk.data(), chunk.size());
    if (n < 0) return fail(sftp_error("read", remote_path));
    if (n == 0) break;
    output.write(chunk.data(), n);
    done += static_cast<std::uint64_t>(n);
    if (progress) progress(done, total > done ? total : done);
  }

  output.close();
  if (!output) {
    return fail(make_error("remote.download_failed", "Could not write the local file " + local_path.string() + ".",
                           "Check the free space of that disk."));
  }
  log::get("deployer")->info("downloaded {}:{} to {} ({} bytes)", target_, remote_path, local_path.string(), done);
  return ok_unit();
}

Status Session::write_secret_file(const std::string& remote_path, const Secret& content) {
  if (Status opened = open_sftp(); !opened) return opened;
  if (Status folders = make_remote_folders(parent_folder(remote_path)); !folders) return folders;

  // The temporary file is created with mode 0600 by the open itself, before
  // a single byte is written, and keeps it through the rename.
  std::string temporary = temporary_name_for(remote_path);
  FileHandle file(sftp_open(sftp_, temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600));
  if (!file) return fail(sftp_error("open", temporary));

  const std::string& text = content.reveal();
  if (!write_all(file.get(), text.data(), text.size())) {
    Error error = sftp_error("write", temporary);
    file.reset();
    sftp_unlink(sftp_, temporary.c_str());
    return fail(std::move(error));
  }
  file.reset();

  if (Status finished = finish_upload(temporary, remote_path, 0600, text.size()); !finished) return finished;
  log::get("deployer")
      ->info("wrote secret file {}:{} (mode 0600, {} bytes, contents not logged)", target_, remote_path, text.size());
  return ok_unit();
}

}  // namespace hivemind::remote
