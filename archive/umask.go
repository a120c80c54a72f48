package archive

// restoredMode is the mode get gives a file whose archive records mode: its read,
// write and execute bits, less the process's umask, as tar restores them for a user
// who is not root. The bits were harmless where the file was put (a private
// directory, say); where it is restored (/tmp, a shared directory) the umask says
// what others may do.
func restoredMode(mode uint16) uint32 {
	return uint32(mode) & restoredModeBits &^ processUmask()
}
