SCAR.start();
