SELECT
  "t"."__row",
  "t"."ticket_no",
  (
    (
      "t"."ticket_type" = '故障报修'
    )
    AND (
      (
        COALESCE("t"."arrived_at", CAST($as_of AS TIMESTAMP)) - "t"."accepted_at"
      ) > (
        CASE
          WHEN "t"."area" IN ('城区')
          THEN INTERVAL '2700000000' MICROSECONDS
          WHEN "t"."area" IN ('农村')
          THEN INTERVAL '5400000000' MICROSECONDS
          WHEN "t"."area" IN ('特殊边远')
          THEN INTERVAL '7200000000' MICROSECONDS
        END
      )
    )
  ) AS "R-001",
  LIST_FILTER([], LAMBDA x : NOT x IS NULL) AS "R-001__missing",
  (
    (
      "t"."category" = '安全隐患'
    ) AND (
      "t"."__agg0" >= 2
    )
  ) AS "R-002",
  LIST_FILTER(
    [
      CASE WHEN (
        "t"."category"
      ) IS NULL THEN 'category' END,
      CASE WHEN (
        "t"."cons_no"
      ) IS NULL THEN 'cons_no' END
    ],
    LAMBDA x : NOT x IS NULL
  ) AS "R-002__missing"
FROM (
  SELECT
    t.*,
    CASE
      WHEN "t"."cons_no" IS NULL
      OR (
        "t"."accepted_at" - INTERVAL '2592000000000' MICROSECONDS
      ) IS NULL
      OR "t"."accepted_at" IS NULL
      THEN NULL
      ELSE "t"."__wf0"
    END AS "__agg0"
  FROM (
    SELECT
      t.*,
      COUNT(*) FILTER(WHERE
        NOT "t"."accepted_at" IS NULL AND (
          (
            "t"."category" = '安全隐患'
          )
        ) IS TRUE) OVER (
        PARTITION BY "t"."cons_no"
        ORDER BY "t"."accepted_at"
        RANGE BETWEEN INTERVAL '2592000000000' MICROSECOND PRECEDING AND CURRENT ROW
      ) AS "__wf0"
    FROM records_ticket AS t
  ) AS t
) AS t
;
SELECT
  "t"."__row",
  "t"."cons_no",
  "t"."period",
  (
    (
      "t"."kwh_avg3" > CAST('0' AS DECIMAL(38, 10))
    )
    AND (
      CASE
        WHEN "t"."kwh_avg3" > 0
        THEN ABS((
          "t"."kwh" - "t"."kwh_avg3"
        )) > (
          CAST('0.5' AS DECIMAL(38, 10))
        ) * (
          "t"."kwh_avg3"
        )
        WHEN "t"."kwh_avg3" < 0
        THEN ABS((
          "t"."kwh" - "t"."kwh_avg3"
        )) < (
          CAST('0.5' AS DECIMAL(38, 10))
        ) * (
          "t"."kwh_avg3"
        )
      END
    )
  ) AS "R-003",
  LIST_FILTER(
    [CASE WHEN (
        "t"."kwh_avg3"
    ) IS NULL THEN 'kwh_avg3' END],
    LAMBDA x : NOT x IS NULL
  ) AS "R-003__missing"
FROM records_billing AS t
