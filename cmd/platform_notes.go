package cmd

// platformNotes lists what differs from Linux, per command and system
// (platforms.go says how they are shown). Keep README "Platforms" in step.
var platformNotes = []platformNote{
	{systems: []string{"darwin"}, text: "ogive does not shut other processes of your account out of its " +
		"memory, where keys are while it runs, as it does on Linux: macOS gives a process's task port only " +
		"to root and to debuggers you have authorised, and core dumps are off."},
	{systems: []string{"windows"}, text: "Nothing shuts other processes of your account out of ogive's " +
		"memory, where keys are while it runs."},
	{systems: []string{"windows"}, text: "Prompts use the console (CONIN$ and CONOUT$), with the " +
		"console's own line editing; Ctrl-C, Ctrl-Break and closing the console interrupt. " +
		"--password-command runs with cmd.exe /d /s /c."},
	{systems: []string{"windows"}, text: "Windows keeps access rights in ACLs, not in the mode Go reports " +
		"(always 0666 or 0444): the profile, a --password-file and the upload records are not refused for " +
		"their mode. Keep them in folders only you can open, such as your user profile."},
	{systems: []string{"windows"}, text: "Without HOME the profile is %USERPROFILE%\\.ogive, and upload " +
		"records are kept in %LocalAppData%\\ogive\\uploads."},

	{commands: []string{"ogive put"}, systems: []string{"freebsd"}, text: "Disks are character devices on " +
		"FreeBSD and are refused; pipe one in instead: dd if=/dev/ada0 bs=1m | ogive put --name ada0.img -"},
	{commands: []string{"ogive put"}, systems: []string{"windows"}, text: "Device paths " +
		"(\\\\.\\PhysicalDrive0, \\\\?\\Volume{...}) are refused: files, folders and standard input only."},
	{commands: []string{"ogive put"}, systems: []string{"windows"}, text: "An interrupted upload resumes " +
		"when the file's index and volume, size and time are those recorded. Upload records are reached by " +
		"name, and their folder's owner and mode are not checked: it must be yours alone (the default, " +
		"%LocalAppData%\\ogive\\uploads, is). The stall check counts the bytes handed to the network, not " +
		"those acknowledged."},
	{commands: []string{"ogive put"}, systems: []string{"windows"}, text: "A folder is walked by name: a " +
		"subfolder swapped for a junction by another program during the walk is followed, and a file " +
		"rewritten with its size and time put back goes unnoticed (there is no change time). Hard links " +
		"are stored as separate files, junctions are skipped, modes are what Windows reports and owners are 0."},

	{commands: []string{"ogive get"}, systems: []string{"darwin"}, text: "Modification times are set to " +
		"the microsecond. Each extracted file is fsynced, and each batch is made durable with one " +
		"F_FULLFSYNC."},
	{commands: []string{"ogive get"}, systems: []string{"darwin", "freebsd"}, text: "A download is linked " +
		"to its final name by its temporary name (this system cannot link an open file): in a folder " +
		"another user can write, a file they swap in at that moment is caught and reported, not prevented."},
	{commands: []string{"ogive get"}, systems: []string{"darwin", "freebsd"}, text: "A folder of yours " +
		"without read permission cannot be extracted into (there is no O_PATH)."},
	{commands: []string{"ogive get"}, systems: []string{"freebsd"}, text: "Writing to a disk " +
		"(--output /dev/ada0, a character device) is refused."},
	{commands: []string{"ogive get"}, systems: []string{"windows"}, text: "A directory archive is not " +
		"extracted: write its tar with 'ogive get ID - > NAME.tar' and extract that with tar (tar.exe comes " +
		"with Windows 10 and later). This is refused before any restore is waited for."},
	{commands: []string{"ogive get"}, systems: []string{"windows"}, text: "Writing to a device is refused, " +
		"and a restored file's mode only sets or clears read-only."},

	{commands: []string{"ogive verify"}, systems: []string{"darwin"}, text: "A tree extracted on macOS " +
		"has its times to the microsecond: verify ID DIR then compares every entry and every file's " +
		"content, but not the parts' checksums."},
	{commands: []string{"ogive verify"}, systems: []string{"windows"}, text: "verify ID DIR compares every " +
		"entry and every file's content, but not the parts' checksums: modes and owners differ from the " +
		"archive's."},
}
