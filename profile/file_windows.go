package profile

import "io/fs"

// checkPrivate checks nothing on Windows: Go gives every writable file the mode 0666
// there, whatever its access control list says. The profile is as private as the
// directory it is in, which must not be readable by other users: the user's own
// %USERPROFILE% is not.
func checkPrivate(fi fs.FileInfo) error { return nil }

// syncDir does nothing on Windows, which cannot flush a directory opened for reading
// (FlushFileBuffers needs write access). The rename stays atomic, but a crash right
// after it may bring back the old file.
func syncDir(dir string) error { return nil }
