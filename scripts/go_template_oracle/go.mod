module gotemplateoracle

go 1.19
