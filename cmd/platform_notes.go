package cmd

// platformNotes lists what differs from Linux, per command and system
// (platforms.go says how they are shown). Keep README "Platforms" in step.
var platformNotes = []platformNote{}
