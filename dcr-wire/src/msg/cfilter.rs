//! Placeholder until this family is written.

crate::msg::placeholder!(borrowing CFilter = CFilter);
crate::msg::placeholder!(CFHeaders = CFHeaders);
crate::msg::placeholder!(borrowing CFTypes = CFTypes);
crate::msg::placeholder!(borrowing CFilterV2 = CFilterV2);
crate::msg::placeholder!(borrowing CFiltersV2 = CFiltersV2);
crate::msg::placeholder!(GetCFHeaders = GetCFHeaders);
crate::msg::placeholder!(GetCFilter = GetCFilter);
crate::msg::placeholder!(GetCFilterV2 = GetCFilterV2);
crate::msg::placeholder!(GetCFsV2 = GetCFsV2);
