// Print the calibration ImageJ reads from each file given in the argument (paths separated by
// newlines): getPixelSize, Stack.getUnits, Stack.getFrameInterval and the dimensions.
// Run: xvfb-run -a java -jar /usr/share/java/ij.jar -batch show_calibration.ijm "$(printf '%s\n' FILES)"
files = split(getArgument(), "\n");
setBatchMode(true);
for (i = 0; i < files.length; i++) {
    open(files[i]);
    if (nImages == 0) {
        print(File.getName(files[i]) + ": ImageJ could not open it");
        continue;
    }
    getPixelSize(unit, pw, ph);
    Stack.getDimensions(w, h, c, z, t);
    Stack.getUnits(xu, yu, zu, tu, vu);
    print(File.getName(files[i]) + ": getPixelSize unit=" + unit + " pw=" + pw + " ph=" + ph
        + " | Stack.getUnits x=" + xu + " y=" + yu + " t=" + tu
        + " | Stack.getFrameInterval=" + Stack.getFrameInterval()
        + " | w=" + w + " h=" + h + " c=" + c + " z=" + z + " t=" + t + " bitDepth=" + bitDepth());
    close();
}
