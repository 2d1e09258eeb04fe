"""Evidence captured on the tablet: photos, signatures and barcode scans."""
